"""Evaluation of a briefly trained model on the small real archive: files, numbers checked
independently with scikit-learn, pictures, a self-contained report, and the gate with its exit
codes."""

import base64
import html
import json
import re
import subprocess

import keras
import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from alexnet_kfp.data.npz import load_npz
from alexnet_kfp.errors import InputError
from alexnet_kfp.evaluate.evaluate import evaluate

from .cli import run_cli

PICTURES = (
    "confusion_matrix.png",
    "confusion_matrix_normalized.png",
    "training_curves.png",
    "confident_mistakes.png",
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def accuracy(evaluation) -> float:
    return evaluation[1]["accuracy"]


def test_all_files_are_written(evaluation):
    out, _ = evaluation
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*PICTURES, "metrics.json", "report.html"]
    )


def test_numbers_agree_with_an_independent_computation(evaluation, trained, small_dataset):
    out, metrics = evaluation
    test = load_npz(small_dataset / "test.npz")
    model = keras.models.load_model(trained[0] / "model.keras")
    predicted = model.predict(test["x"], batch_size=250, verbose=0).argmax(axis=1)
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["accuracy"] == pytest.approx(accuracy_score(test["y"], predicted))
    assert (
        saved["confusion_matrix"]
        == confusion_matrix(test["y"], predicted, labels=range(10)).tolist()
    )
    np.testing.assert_allclose(
        np.array(saved["confusion_matrix_normalized"]).sum(axis=1), 1.0, atol=1e-5
    )
    f1 = f1_score(test["y"], predicted, average=None, labels=range(10), zero_division=0)
    assert [c["f1"] for c in saved["per_class"].values()] == pytest.approx(f1.tolist())
    assert [c["support"] for c in saved["per_class"].values()] == [100] * 10
    assert saved["gate"]["passed"] and saved["model"]["variant"] == "article"


@pytest.mark.parametrize("name", PICTURES)
def test_pictures_decode_with_sensible_sizes(evaluation, name):
    with Image.open(evaluation[0] / name) as image:
        image.load()
        assert image.format == "PNG" and image.width >= 600 and image.height >= 400


def test_report_is_self_contained_and_embeds_every_picture(evaluation):
    out, metrics = evaluation
    page = (out / "report.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I)
    assert "url(" not in page and "@import" not in page
    for name in PICTURES:
        assert base64.b64encode((out / name).read_bytes()).decode() in page, name
    assert f"{metrics['accuracy']:.4f}" in page and html.escape(metrics["gate"]["reason"]) in page
    assert all(name in page for name in metrics["class_names"])


def test_gate_thresholds_without_baseline(trained, small_dataset, tmp_path, accuracy):
    at = evaluate(small_dataset, trained[0], tmp_path / "at", min_accuracy=accuracy)
    above = evaluate(small_dataset, trained[0], tmp_path / "above", min_accuracy=accuracy + 0.001)
    assert at.gate.passed and not above.gate.passed
    assert above.gate.reason.startswith(f"accuracy {accuracy:.3f} < min_accuracy")
    assert (
        tmp_path / "above" / "report.html"
    ).is_file()  # the report is written when the gate fails too


def test_gate_against_a_baseline_metrics_file(trained, small_dataset, tmp_path, accuracy):
    for name, baseline, passes in (
        ("near", accuracy + 0.005, True),
        ("far", accuracy + 0.02, False),
    ):
        (tmp_path / f"{name}.json").write_text(json.dumps({"accuracy": baseline}))
        result = evaluate(
            small_dataset,
            trained[0],
            tmp_path / name,
            min_accuracy=0.0,
            baseline=tmp_path / f"{name}.json",
            max_regression=0.01,
        )
        assert result.gate.passed is passes and result.gate.baseline_accuracy == baseline


def test_gate_against_a_baseline_model_evaluated_on_the_same_split(
    trained, small_dataset, tmp_path, accuracy
):
    result = evaluate(
        small_dataset,
        trained[0],
        tmp_path / "ev",
        min_accuracy=0.0,
        baseline=trained[0] / "model.keras",
        max_regression=0.0,
    )
    assert result.gate.baseline_accuracy == pytest.approx(accuracy) and result.gate.passed


def test_bad_baseline_is_a_clear_error(trained, small_dataset, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="expected metrics.json"):
        evaluate(small_dataset, trained[0], tmp_path / "ev", baseline=tmp_path / "notes.txt")
    assert not (tmp_path / "ev").exists()


def _cli(*args) -> subprocess.CompletedProcess:
    return run_cli("evaluate", *args, timeout=600)


def test_cli_exit_codes(trained, small_dataset, tmp_path, accuracy):
    passed = _cli(
        "--data",
        small_dataset,
        "--model",
        trained[0],
        "--out",
        tmp_path / "a",
        "--min-accuracy",
        0.1,
    )
    assert passed.returncode == 0, passed.stderr
    assert "gate passed" in passed.stdout
    failed = _cli(
        "--data",
        small_dataset,
        "--model",
        trained[0],
        "--out",
        tmp_path / "b",
        "--min-accuracy",
        0.99,
    )
    assert failed.returncode == 3 and "gate FAILED: accuracy" in failed.stdout
    assert (tmp_path / "b" / "report.html").is_file()
    bad = _cli("--data", small_dataset, "--model", tmp_path / "missing", "--out", tmp_path / "c")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and not (tmp_path / "c").exists()
