"""Your own images end to end: a 3-class folder of PNGs and JPEGs of mixed sizes and modes through
`alexnet-kfp run --quick --source DIR`, then `predict` and `serve` answering with the folders'
class names; a 100-class folder through data, one epoch of training and evaluate, its pictures
sized to stay legible."""

import json
import urllib.request

import numpy as np
import pytest
from PIL import Image

from alexnet_kfp.evaluate.evaluate import evaluate
from alexnet_kfp.records import DatasetRecord, MetricsRecord

from .cli import run_cli, run_train
from .image_folders import class_files, write_folder
from .test_js_examples import EXAMPLES, INSTALLED, NODE, _node
from .test_serve import Server

pytestmark = pytest.mark.e2e

CLASSES = ["bolt", "nut", "washer"]


def test_a_three_class_folder_runs_end_to_end_and_answers_with_its_names(tmp_path):
    folder = write_folder(tmp_path / "parts", class_files(CLASSES, 30, seed=1))
    runs = tmp_path / "runs"
    done = run_cli(
        "run", "--quick", "--source", folder, "--runs", runs, "--epochs", 4,
        "--min-accuracy", 0.5, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    latest = runs / "latest"
    dataset = DatasetRecord.read(latest / "dataset")
    assert dataset.class_names == CLASSES and dataset.layout == "image-folder"
    metrics = MetricsRecord.read(next(latest.resolve().rglob("metrics.json")).parent)
    assert list(metrics.per_class) == CLASSES and np.shape(metrics.confusion_matrix) == (3, 3)
    assert metrics.accuracy >= 0.5  # the classes differ in colour: a few epochs learn them
    export = json.loads((latest / "onnx_model" / "export.json").read_text())
    assert json.loads(export["metadata"]["class_names"]) == CLASSES

    # predict answers with the folders' names, one of each class read back as its own
    picked = [folder / name / "0001.jpg" for name in CLASSES]
    answered = run_cli("predict", *picked, "--model", latest / "onnx_model", "--json")
    assert answered.returncode == 0, answered.stderr
    results = json.loads(answered.stdout)
    assert {r["top"][0]["label"] for r in results} <= set(CLASSES)
    assert sum(r["top"][0]["label"] == name for r, name in zip(results, CLASSES, strict=True)) >= 2

    # the Node example reads the names from the model's metadata too, and answers the same
    if NODE and INSTALLED:
        node = _node(str(EXAMPLES / "node" / "classify.js"), latest / "onnx_model", *picked)
        assert node.returncode == 0, node.stderr
        by_python = run_cli("predict", *picked, "--model", latest / "onnx_model").stdout
        top = [[line.split()[1] for line in out.splitlines()] for out in (node.stdout, by_python)]
        assert top[0] == top[1] and len(top[0]) == 3

    # serve: three classes in its metadata, the names in the classification extension's answer
    server = Server(latest / "onnx_model", tmp_path / "serve.log")
    try:
        with urllib.request.urlopen(f"{server.url}/v2/models/alexnet", timeout=10) as answer:
            assert json.loads(answer.read())["outputs"][0]["shape"] == [-1, 3]
        pixels = np.asarray(Image.open(picked[0]).convert("RGB").resize((32, 32)), np.uint8)
        body = {
            "inputs": [
                {"name": "image", "shape": [1, 32, 32, 3], "datatype": "UINT8",
                 "data": pixels.ravel().tolist()},
            ],
            "outputs": [{"name": "probabilities", "parameters": {"classification": 3}}],
        }  # fmt: skip
        request = urllib.request.Request(
            f"{server.url}/v2/models/alexnet/infer", json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as answer:
            labels = json.loads(answer.read())["outputs"][0]["data"]
        assert sorted(label.split(":", 2)[2] for label in labels) == CLASSES
    finally:
        assert server.stop() == 0


def test_a_hundred_classes_train_and_evaluate_with_legible_pictures(tmp_path):
    names = [f"species {i:03d}" for i in range(100)]
    folder = write_folder(tmp_path / "traps", class_files(names, 5, seed=2))
    made = run_cli("data", "--source", folder, "--out", tmp_path / "dataset")
    assert made.returncode == 0, made.stderr
    assert DatasetRecord.read(tmp_path / "dataset").class_names == names
    trained = run_train(tmp_path / "dataset", tmp_path / "model", "--epochs", 1)
    assert trained.returncode == 0, trained.stderr[-3000:]
    record = evaluate(tmp_path / "dataset", tmp_path / "model", tmp_path / "eval", min_accuracy=0)
    assert len(record.per_class) == 100 and np.shape(record.confusion_matrix) == (100, 100)
    with Image.open(tmp_path / "eval" / "confusion_matrix.png") as picture:
        # 0.22 inches a class at 110 dpi: each row 24 pixels, room for a 5-point name
        assert min(picture.size) >= 100 * 0.22 * 110
    report = (tmp_path / "eval" / "report.html").read_text()
    assert "AlexNet on your images (100 classes)" in report
    assert all(report.count(f"<td>{name}</td>") == 2 for name in names)  # scores, folder read
