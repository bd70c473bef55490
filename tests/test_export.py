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
def test_test_accuracy_is_recorded_when_known(trained, tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"accuracy": 0.4321}))
    export(trained[0], tmp_path / "onnx", metrics_path=tmp_path / "metrics.json")
    props = {p.key: p.value for p in onnx.load(tmp_path / "onnx" / "model.onnx").metadata_props}
    assert json.loads(props["test_accuracy"]) == 0.4321


@pytest.mark.integration
def test_parity_passes_on_the_whole_test_split(exported, trained, small_dataset, tmp_path):
    result = verify(small_dataset, trained[0], exported, out_dir=tmp_path / "parity")
    assert result["passed"] and result["images"] == 1000
    assert result["max_abs_diff"] <= 1e-4 and result["argmax_agreement"] == 1.0
    assert json.loads((tmp_path / "parity" / "parity.json").read_text()) == result


@pytest.mark.integration
def test_an_altered_weight_fails_verify_with_a_clear_message(
    exported, trained, small_dataset, tmp_path
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
        verify(small_dataset, trained[0], altered, out_dir=tmp_path / "parity")
    assert json.loads((tmp_path / "parity" / "parity.json").read_text())["passed"] is False


@pytest.mark.unit
def test_ties_are_not_counted_as_disagreements():
    keras_p = np.array([[0.50000, 0.49999, 0.00001], [0.9, 0.05, 0.05]], np.float32)
    onnx_p = np.array([[0.49999, 0.50000, 0.00001], [0.9, 0.05, 0.05]], np.float32)
    result = compare(keras_p, onnx_p, atol=1e-4)
    assert (
        result["passed"] and result["disagreements"][0]["tie"] and result["argmax_agreement"] == 0.5
    )
    real = compare(np.array([[0.6, 0.4]]), np.array([[0.4, 0.6]]), atol=1e-4)
    assert not real["passed"] and "another top-1 class" in real["reason"]


@pytest.mark.unit
def test_export_without_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="made by the train step"):
        export(tmp_path, tmp_path / "onnx")
    assert not (tmp_path / "onnx").exists()
