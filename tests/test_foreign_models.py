"""Models and data that do not belong together are refused before any work, in one line naming
both: an ONNX model of another input or output contract (predict, serve, model-repository,
evaluate --baseline, the Python API), a Keras model of another shape, a Dataset of other classes
(evaluate's baseline, export's calibration, verify)."""

import json
import shutil

import keras
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from alexnet_kfp.errors import InputError
from alexnet_kfp.inference.onnx_classifier import OnnxClassifier

from .cli import run_cli
from .test_hostile_inputs import _one_line

CONTRACT = "not a model of alexnet-kfp's contract"


def _onnx(path, input_type, input_shape, output: str = "probabilities", classes_metadata=None):
    """A small valid ONNX graph: the input cast to float, flattened, times a matrix to 10 values
    (`output` "argmax": the class index instead, int64)."""
    width = int(np.prod(input_shape[1:]))
    nodes = [
        helper.make_node("Cast", ["image"], ["as_float"], to=TensorProto.FLOAT),
        helper.make_node("Flatten", ["as_float"], ["flat"]),
        helper.make_node("MatMul", ["flat", "weights"], ["scores"]),
    ]
    if output == "argmax":
        nodes.append(helper.make_node("ArgMax", ["scores"], ["out"], axis=1, keepdims=0))
        out = helper.make_tensor_value_info("out", TensorProto.INT64, ["N"])
    else:
        nodes.append(helper.make_node("Softmax", ["scores"], ["out"], axis=1))
        out = helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 10])
    weights = numpy_helper.from_array(np.full((width, 10), 1e-4, np.float32), "weights")
    graph = helper.make_graph(
        nodes,
        "foreign",
        [helper.make_tensor_value_info("image", input_type, ["N", *input_shape[1:]])],
        [out],
        [weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if classes_metadata is not None:
        helper.set_model_props(model, {"class_names": classes_metadata})
    onnx.save(model, path)
    return path


@pytest.fixture(scope="module")
def foreign(tmp_path_factory) -> dict:
    """Models a user might hand over by mistake, each a readable ONNX file."""
    folder = tmp_path_factory.mktemp("foreign")
    return {
        "float NCHW": _onnx(folder / "nchw.onnx", TensorProto.FLOAT, (1, 3, 32, 32)),
        "uint8 224x224": _onnx(folder / "imagenet.onnx", TensorProto.UINT8, (1, 224, 224, 3)),
        "class index out": _onnx(
            folder / "argmax.onnx", TensorProto.UINT8, (1, 32, 32, 3), output="argmax"
        ),
        "3 names, 10 outputs": _onnx(
            folder / "names.onnx",
            TensorProto.UINT8,
            (1, 32, 32, 3),
            classes_metadata=json.dumps(["cat", "dog", "bird"]),
        ),
    }


@pytest.fixture(scope="module")
def own_contract(tmp_path_factory) -> str:
    """An ONNX model of the project's contract (10 classes, no names): accepted."""
    path = tmp_path_factory.mktemp("own") / "model.onnx"
    return str(_onnx(path, TensorProto.UINT8, (1, 32, 32, 3)))


KINDS = ["float NCHW", "uint8 224x224", "class index out", "3 names, 10 outputs"]


@pytest.mark.unit
@pytest.mark.parametrize("kind", KINDS)
def test_the_python_api_refuses_a_foreign_model_and_takes_its_own(foreign, own_contract, kind):
    with pytest.raises(InputError, match=str(foreign[kind])):
        OnnxClassifier(foreign[kind])
    classifier = OnnxClassifier(own_contract)
    assert classifier.class_names == [str(i) for i in range(10)]
    image = np.zeros((1, 32, 32, 3), np.uint8)
    assert classifier.predict(image).shape == (1, 10)


@pytest.mark.unit
@pytest.mark.parametrize("kind", KINDS)
def test_predict_refuses_a_foreign_model_in_one_line(foreign, tmp_path, kind):
    image = tmp_path / "cat.png"
    Image.new("RGB", (32, 32)).save(image)
    result = run_cli("predict", image, "--model", foreign[kind], timeout=120)
    words = [CONTRACT] if kind != "3 names, 10 outputs" else ["class_names"]
    _one_line(result, str(foreign[kind]), *words)


@pytest.mark.unit
@pytest.mark.parametrize("kind", ["float NCHW", "class index out"])
def test_serve_and_model_repository_refuse_it_before_starting(foreign, tmp_path, kind):
    # the model is loaded before a port is opened: the ports given are never used
    served = run_cli("serve", "--model", foreign[kind], "--http-port", "9", "--grpc-port", "7")
    _one_line(served, str(foreign[kind]), CONTRACT)
    export_dir = tmp_path / "onnx"
    export_dir.mkdir()
    shutil.copy(foreign[kind], export_dir / "model.onnx")
    written = run_cli("model-repository", "--onnx", export_dir, "--out", tmp_path / "repo")
    _one_line(written, "model.onnx", CONTRACT)
    assert not (tmp_path / "repo").exists()


def _untrained_model_dir(folder, input_shape=(32, 32, 3)):
    """A Model directory whose model.keras has the given input shape (no train.json)."""
    folder.mkdir()
    inputs = keras.Input(input_shape, dtype="uint8")
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs))
    keras.Model(inputs, outputs).save(folder / "model.keras")
    return folder


@pytest.mark.integration
def test_evaluate_refuses_a_foreign_baseline_before_judging(tiny_dataset, foreign, tmp_path):
    model = _untrained_model_dir(tmp_path / "model")
    for baseline in (foreign["uint8 224x224"], _untrained_model_dir(tmp_path / "big", (64, 64, 3))):
        path = baseline if baseline.suffix == ".onnx" else baseline / "model.keras"
        result = run_cli(
            "evaluate", "--data", tiny_dataset, "--model", model, "--out", tmp_path / "e",
            "--baseline", path,
        )  # fmt: skip
        _one_line(result, str(path), CONTRACT)
        assert not (tmp_path / "e").exists()


def _dataset_of_other_classes(tiny_dataset, folder):
    """The tiny Dataset, relabelled as 3 classes (its labels kept within them)."""
    shutil.copytree(tiny_dataset, folder)
    info = json.loads((folder / "dataset.json").read_text())
    info["class_names"] = ["cat", "dog", "bird"]
    (folder / "dataset.json").write_text(json.dumps(info))
    return folder


@pytest.mark.integration
def test_verify_and_export_refuse_data_of_other_classes(exported, trained, tiny_dataset, tmp_path):
    other = _dataset_of_other_classes(tiny_dataset, tmp_path / "three-classes")
    verify = run_cli(
        "verify", "--data", other, "--model", trained[0], "--onnx", exported,
        "--out", tmp_path / "parity",
    )  # fmt: skip
    _one_line(verify, str(trained[0]), "predicts 10 classes, the Dataset has 3")
    export = run_cli("export", "--model", trained[0], "--data", other, "--out", tmp_path / "onnx")
    _one_line(export, str(trained[0]), "predicts 10 classes, the Dataset has 3")
    assert not (tmp_path / "onnx").exists() and not (tmp_path / "parity").exists()
