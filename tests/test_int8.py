"""model.int8.onnx: made by onnxruntime's static quantisation from training images only, the same
contract as model.onnx, its accuracy gated by verify, and usable wherever model.onnx is."""

import json
import shutil

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from alexnet_kfp.data.npz import load_npz, load_split
from alexnet_kfp.errors import InputError
from alexnet_kfp.export import check_int8_max_loss
from alexnet_kfp.export.int8_check import compare_int8
from alexnet_kfp.export.onnx_export import export
from alexnet_kfp.export.parity import ParityError, verify
from alexnet_kfp.export.quantize import Int8Recipe, calibration_sample, quantize
from alexnet_kfp.files import file_digest
from alexnet_kfp.inference.onnx_classifier import OnnxClassifier
from alexnet_kfp.records import ParityRecord

from .cli import run_cli


def _interface(model: onnx.ModelProto) -> list:
    return [
        (v.name, v.type.tensor_type.elem_type, [d.dim_value for d in v.type.tensor_type.shape.dim])
        for v in (*model.graph.input, *model.graph.output)
    ]


@pytest.mark.integration
def test_int8_model_keeps_the_contract_and_records_how_it_was_made(exported):
    float_model, int8_model = (
        onnx.load(exported / "model.onnx"),
        onnx.load(exported / "model.int8.onnx"),
    )
    onnx.checker.check_model(int8_model, full_check=True)
    assert _interface(int8_model) == _interface(float_model)
    float_props = {p.key: p.value for p in float_model.metadata_props}
    props = {p.key: p.value for p in int8_model.metadata_props}
    assert props["precision"] == "int8" and float_props["precision"] == "float32"
    assert (
        props["class_names"] == float_props["class_names"]
        and props["input"] == float_props["input"]
    )
    assert (
        "test_accuracy" not in props
        and props["float32_test_accuracy"] == float_props["test_accuracy"]
    )
    how = json.loads(props["quantization"])
    assert (
        how["calibration"]["split"] == "train"
        and how["calibration"]["images"] == Int8Recipe().calibration_images
    )
    assert how["float_model_sha256"] == file_digest(exported / "model.onnx")
    assert how["quantized_op_types"] == {"Conv": 5, "Gemm": 4}  # every layer holds int8 weights
    int8_weights = [t for t in int8_model.graph.initializer if t.data_type == onnx.TensorProto.INT8]
    assert sum(np.prod(t.dims) for t in int8_weights) > 0.99 * sum(
        np.prod(t.dims) for t in float_model.graph.initializer if len(t.dims) >= 2
    )
    assert (exported / "model.int8.onnx").stat().st_size * 3.5 < (
        exported / "model.onnx"
    ).stat().st_size
    record = json.loads((exported / "export.json").read_text())["int8"]
    assert (
        record["sha256"] == file_digest(exported / "model.int8.onnx")
        and record["recipe"] == how["recipe"]
    )


@pytest.mark.integration
def test_dense_batchnorm_is_folded_into_the_dense_layers(exported):
    model = onnx.load(exported / "model.onnx")
    producers = {o: n.op_type for n in model.graph.node for o in n.output}
    after_gemm = [
        n.op_type for n in model.graph.node if any(producers.get(i) == "Gemm" for i in n.input)
    ]
    assert "Mul" not in after_gemm and "Add" not in after_gemm  # Gemm -> Relu/Softmax directly
    assert json.loads((exported / "export.json").read_text())["dense_batchnorms_folded"] == 3


@pytest.mark.integration
def test_calibration_reads_the_training_split_only(trained, small_dataset, tmp_path):
    train_only = tmp_path / "dataset"
    train_only.mkdir()
    shutil.copy(small_dataset / "train.npz", train_only)
    shutil.copy(small_dataset / "dataset.json", train_only)
    info = export(
        trained[0], tmp_path / "onnx", dataset_dir=train_only
    )  # no val.npz, no test.npz to read
    int8 = info.record.int8
    assert (tmp_path / "onnx" / "model.int8.onnx").is_file() and int8.calibration.split == "train"


@pytest.mark.integration
def test_calibration_sample_is_balanced_repeatable_and_seeded(small_dataset):
    x, y = load_split(small_dataset, "train")
    images, indices = calibration_sample(x, y, 100, seed=0)
    again, same = calibration_sample(x, y, 100, seed=0)
    _, other = calibration_sample(x, y, 100, seed=1)
    assert (
        np.array_equal(indices, same)
        and np.array_equal(images, again)
        and not np.array_equal(indices, other)
    )
    assert (
        np.bincount(y[indices], minlength=10).tolist() == [10] * 10
        and len(set(indices.tolist())) == 100
    )
    assert np.array_equal(images, x[indices])


@pytest.mark.integration
def test_verify_records_int8_accuracy_and_agreement(exported, trained, small_dataset, tmp_path):
    result = verify(small_dataset, trained[0], exported, out_dir=tmp_path / "parity")
    int8 = result.int8
    assert result.verified and int8.passed and int8.images == 1000
    labels = load_npz(small_dataset / "test.npz")["y"]
    expected = float(
        (
            OnnxClassifier(exported, int8=True)
            .predict(load_npz(small_dataset / "test.npz")["x"])
            .argmax(1)
            == labels
        ).mean()
    )
    assert int8.int8_accuracy == expected and int8.accuracy_loss <= 0.01
    assert 0.9 < int8.top1_agreement <= 1.0
    assert int8.sha256 == file_digest(exported / "model.int8.onnx")
    assert ParityRecord.read(tmp_path / "parity") == result


def _sabotaged_int8(exported, small_dataset, tmp_path):
    """An export directory whose int8 model was calibrated and quantised properly from a float model
    with the classifier's weights negated: a real int8 file that has lost most of its accuracy."""
    altered = tmp_path / "altered"
    shutil.copytree(exported, altered)
    model = onnx.load(exported / "model.onnx")
    classifier = next(t for t in model.graph.initializer if list(t.dims) == [1000, 10])
    classifier.CopyFrom(
        numpy_helper.from_array(-numpy_helper.to_array(classifier), classifier.name)
    )
    onnx.save(model, tmp_path / "negated.onnx")
    x, y = load_split(small_dataset, "train")
    quantize(
        tmp_path / "negated.onnx", altered / "model.int8.onnx", calibration_sample(x, y, 64)[0]
    )
    return altered


@pytest.mark.integration
def test_an_int8_model_that_loses_too_much_fails_verify(exported, trained, small_dataset, tmp_path):
    altered = _sabotaged_int8(exported, small_dataset, tmp_path)
    with pytest.raises(
        ParityError,
        match=r"int8 model .*model.int8.onnx loses too much accuracy: .* > allowed 1.00",
    ):
        verify(small_dataset, trained[0], altered, out_dir=tmp_path / "parity")
    record = json.loads((tmp_path / "parity" / "parity.json").read_text())
    assert record["passed"] and not record["int8"]["passed"] and not record["verified"]
    # the parameter decides: allowing the whole loss lets the same files through
    assert verify(
        small_dataset, trained[0], altered, out_dir=tmp_path / "lenient", int8_max_loss=1.0
    ).verified


@pytest.mark.integration
def test_an_int8_model_promised_but_missing_is_a_clear_error(
    exported, trained, small_dataset, tmp_path
):
    altered = tmp_path / "altered"
    shutil.copytree(exported, altered)
    (altered / "model.int8.onnx").unlink()
    with pytest.raises(
        InputError, match="model.int8.onnx not found although .*export.json records it"
    ):
        verify(small_dataset, trained[0], altered, out_dir=tmp_path / "parity")


@pytest.mark.unit
def test_the_loss_limit_is_inclusive_and_checked():
    float_p = np.eye(10, dtype=np.float32)[np.arange(100) % 10]
    labels = np.arange(100) % 10
    one_wrong = float_p.copy()
    one_wrong[0] = np.roll(one_wrong[0], 1)
    assert compare_int8(float_p, one_wrong, labels, max_loss=0.01)["passed"]  # exactly one point
    assert not compare_int8(float_p, one_wrong, labels, max_loss=0.009)["passed"]
    for bad in (float("nan"), -0.001, 1.5):
        with pytest.raises(InputError, match="int8_max_loss"):
            check_int8_max_loss(bad)


@pytest.mark.integration
def test_consumers_pick_either_model(exported, small_dataset):
    x = load_npz(small_dataset / "test.npz")["x"][:200]
    float32, int8 = OnnxClassifier(exported), OnnxClassifier(exported, int8=True)
    assert (float32.precision, int8.precision) == ("float32", "int8")
    assert float32.path.name == "model.onnx" and int8.path.name == "model.int8.onnx"
    assert int8.class_names == float32.class_names
    assert (int8.predict(x).argmax(1) == float32.predict(x).argmax(1)).mean() > 0.9
    with pytest.raises(InputError, match="give the directory"):
        OnnxClassifier(exported / "model.onnx", int8=True)


@pytest.mark.integration
def test_predict_int8_from_the_export_directory(exported, small_dataset, tmp_path):
    from PIL import Image

    test = load_npz(small_dataset / "test.npz")
    Image.fromarray(test["x"][0]).save(tmp_path / "image.png")
    no_int8 = tmp_path / "float-only"
    no_int8.mkdir()
    shutil.copy(exported / "model.onnx", no_int8)

    def predict(*args):
        return run_cli("predict", tmp_path / "image.png", "--json", *args, timeout=120)

    for args in (
        ["--model", exported, "--int8"],
        ["--model", exported],
        ["--model", exported / "model.int8.onnx"],
    ):
        done = predict(*map(str, args))
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)[0]["top"][0]["label"] in OnnxClassifier(exported).class_names
    refused = predict("--model", str(no_int8), "--int8")
    assert refused.returncode == 2 and "no model.int8.onnx in it" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
