"""ONNX export of a briefly trained model, and parity with Keras on the small real test split."""

import json
import shutil

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from alexnet_kfp.errors import InputError
from alexnet_kfp.export.onnx_export import export
from alexnet_kfp.export.parity import ParityError, compare, verify
from alexnet_kfp.files import file_digest
from alexnet_kfp.records import ParityRecord

from .cli import run_cli


@pytest.mark.integration
def test_exported_model_has_the_documented_interface(exported, trained):
    model = onnx.load(exported / "model.onnx")
    onnx.checker.check_model(model, full_check=True)
    (image,), (probabilities,) = model.graph.input, model.graph.output
    assert image.name == "image" and image.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    dims = image.type.tensor_type.shape.dim
    assert not dims[0].HasField("dim_value") and [d.dim_value for d in dims[1:]] == [32, 32, 3]
    assert (
        probabilities.name == "probabilities"
        and probabilities.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    )
    assert probabilities.type.tensor_type.shape.dim[1].dim_value == 10
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props["class_names"])[3] == "cat"
    assert props["source_model_sha256"] == file_digest(trained[0] / "model.keras")
    assert {"tf2onnx", "onnx", "onnxruntime", "tensorflow"} <= set(json.loads(props["versions"]))
    assert "uint8" in props["input"] and props["variant"] == "article"


@pytest.mark.integration
def test_export_json_records_the_conversion(exported):
    record = json.loads((exported / "export.json").read_text())
    assert record["opset"] == 17 and record["bytes"] == (exported / "model.onnx").stat().st_size
    assert record["sha256"] == file_digest(exported / "model.onnx")
    assert record["conversion_seconds"] > 0 and record["process_peak_rss_mib"] > 0


@pytest.mark.integration
def test_test_accuracy_is_recorded_when_known(trained, evaluation, tmp_path):
    metrics = {**evaluation[1], "accuracy": 0.4321}  # a metrics.json the evaluate step wrote
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    export(trained[0], tmp_path / "onnx", metrics_path=tmp_path / "metrics.json")
    props = {p.key: p.value for p in onnx.load(tmp_path / "onnx" / "model.onnx").metadata_props}
    assert json.loads(props["test_accuracy"]) == 0.4321


@pytest.mark.integration
def test_parity_passes_on_the_whole_test_split(exported, trained, small_dataset, tmp_path):
    result = verify(small_dataset, trained[0], exported, out_dir=tmp_path / "parity")
    assert result.passed and result.images == 1000
    assert result.max_abs_diff <= 1e-4 and result.argmax_agreement == 1.0
    assert ParityRecord.read(tmp_path / "parity") == result
    assert sorted(p.name for p in (tmp_path / "parity").iterdir()) == ["parity.json"]


@pytest.mark.integration
def test_verify_cli_writes_the_runs_report_with_the_onnx_results(
    exported, trained, small_dataset, evaluation, tmp_path
):
    out = tmp_path / "parity"
    ran = run_cli(
        "verify", "--data", small_dataset, "--model", trained[0], "--onnx", exported,
        "--out", out, "--evaluation", evaluation[0],
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    parity = json.loads((out / "parity.json").read_text())
    report = (out / "report.html").read_text()
    evaluated = (evaluation[0] / "report.html").read_text()
    # the evaluation's page, its pictures and numbers, with the ONNX section before the pictures
    assert "AlexNet on CIFAR-10: evaluation and the ONNX models" in report
    assert report.count("data:image/png;base64,") == evaluated.count("data:image/png;base64,") == 4
    assert f"<b>{evaluation[1]['accuracy']:.4f}</b>test accuracy" in report
    section = report.split("<h2>The exported ONNX models</h2>", 1)[1].split("<h2>", 1)[0]
    assert "ONNX models verified:" in section
    assert f"<b>{parity['max_abs_diff']:.2g}</b>max |&Delta;p| (atol 0.0001)" in section
    assert f"<b>{parity['argmax_agreement']:.2%}</b>top-1 agreement" in section
    assert "<b>1,000</b>test images checked" in section
    int8, sizes = parity["int8"], {p.name: p.stat().st_size for p in exported.glob("*.onnx")}
    float_mib, int8_mib = sizes["model.onnx"] / 2**20, sizes["model.int8.onnx"] / 2**20
    ratio = sizes["model.int8.onnx"] / sizes["model.onnx"]
    assert (
        f"<td>float32</td><td>{float_mib:.1f} MiB</td><td>{int8['float32_accuracy']:.4f}</td>"
        in section
    )
    assert (
        f"<td>int8</td><td>{int8_mib:.1f} MiB ({ratio:.2f}x)</td><td>{int8['int8_accuracy']:.4f}"
        f"</td><td>{int8['top1_agreement']:.2%}</td><td>passed: " in section
    )
    missing = run_cli(
        "verify", "--data", small_dataset, "--model", trained[0], "--onnx", exported,
        "--out", tmp_path / "p2", "--evaluation", tmp_path / "none",
    )  # fmt: skip
    assert missing.returncode == 2 and missing.stderr == (
        f"alexnet-kfp verify: error: {tmp_path / 'none'}: no metrics.json in it (expected a "
        "directory made by the evaluate step)\n"
    )
    assert not (tmp_path / "p2").exists()  # refused before the minutes of prediction


@pytest.mark.integration
def test_an_altered_weight_fails_verify_with_a_clear_message(
    exported, trained, small_dataset, evaluation, tmp_path
):
    model = onnx.load(exported / "model.onnx")
    classifier = next(t for t in model.graph.initializer if sorted(t.dims) == [10, 1000])
    # the final 1000 -> 10 layer's bias for class 0: enough to move a saturated softmax too
    layer = next(node for node in model.graph.node if classifier.name in node.input)
    bias = next(t for t in model.graph.initializer if t.name == layer.input[2])
    values = numpy_helper.to_array(bias).copy()
    values[0] += 50.0
    bias.CopyFrom(numpy_helper.from_array(values, bias.name))
    altered = tmp_path / "altered"
    shutil.copytree(exported, altered)
    onnx.save(model, altered / "model.onnx")
    with pytest.raises(
        ParityError, match=r"disagrees with .*model.keras: max \|delta p\| .* > atol 0.0001"
    ):
        verify(
            small_dataset, trained[0], altered, out_dir=tmp_path / "parity",
            evaluation_dir=evaluation[0],
        )  # fmt: skip
    assert json.loads((tmp_path / "parity" / "parity.json").read_text())["passed"] is False
    report = (tmp_path / "parity" / "report.html").read_text()  # the report says why
    assert '<div class="gate fail"><b>ONNX models not verified:</b>' in report
    assert "another top-1 class" in report or "&gt; atol 0.0001" in report


@pytest.mark.unit
def test_ties_are_not_counted_as_disagreements():
    keras_p = np.array([[0.50000, 0.49999, 0.00001], [0.9, 0.05, 0.05]], np.float32)
    onnx_p = np.array([[0.49999, 0.50000, 0.00001], [0.9, 0.05, 0.05]], np.float32)
    result = compare(keras_p, onnx_p, atol=1e-4)
    assert result["passed"] and result["disagreements"][0].tie and result["argmax_agreement"] == 0.5
    real = compare(np.array([[0.6, 0.4]]), np.array([[0.4, 0.6]]), atol=1e-4)
    assert not real["passed"] and "another top-1 class" in real["reason"]


@pytest.mark.unit
def test_export_without_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="made by the train step"):
        export(tmp_path, tmp_path / "onnx")
    assert not (tmp_path / "onnx").exists()
