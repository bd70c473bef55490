"""The Triton model repository: config.pbtxt parsed by Triton's own ModelConfig protobuf (from
tritonclient), labels and model files checked against the export they came from."""

import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from alexnet_kfp.errors import InputError
from alexnet_kfp.export.model_repository import (
    TRITON_MAX_BATCH_SIZE,
    models_in,
    write_model_repository,
)
from alexnet_kfp.files import file_digest
from alexnet_kfp.inference.onnx_classifier import OnnxClassifier


@pytest.fixture(scope="module")
def repository(exported, tmp_path_factory):
    out = tmp_path_factory.mktemp("repository") / "model_repository"
    assert write_model_repository(exported, out) == {
        "alexnet": "alexnet/1/model.onnx",
        "alexnet_int8": "alexnet_int8/1/model.onnx",
    }
    return out


@pytest.mark.integration
@pytest.mark.parametrize(
    "name, source", [("alexnet", "model.onnx"), ("alexnet_int8", "model.int8.onnx")]
)
def test_config_is_a_valid_triton_model_config(repository, exported, name, source):
    config = model_config_pb2.ModelConfig()
    text_format.Parse(
        (repository / name / "config.pbtxt").read_text(), config
    )  # unknown fields raise
    assert (
        config.name == name
        and config.backend == "onnxruntime"
        and config.max_batch_size == TRITON_MAX_BATCH_SIZE
    )
    (image,), (probabilities,) = config.input, config.output
    assert (image.name, image.data_type, list(image.dims)) == (
        "image",
        model_config_pb2.TYPE_UINT8,
        [32, 32, 3],
    )
    assert (probabilities.name, probabilities.data_type, list(probabilities.dims)) == (
        "probabilities",
        model_config_pb2.TYPE_FP32,
        [10],
    )
    assert probabilities.label_filename == "labels.txt"
    assert config.dynamic_batching.max_queue_delay_microseconds > 0
    assert max(config.dynamic_batching.preferred_batch_size) <= config.max_batch_size
    # the config's contract is the model's own
    classifier = OnnxClassifier(exported / source)
    assert [i.name for i in classifier.session.get_inputs()] == [image.name]
    assert [o.name for o in classifier.session.get_outputs()] == [probabilities.name]
    assert (repository / name / "labels.txt").read_text().splitlines() == classifier.class_names
    assert file_digest(repository / name / "1" / "model.onnx") == file_digest(exported / source)


@pytest.mark.integration
def test_serve_finds_the_same_models_in_every_layout(repository, exported):
    from_repository, from_export = models_in(repository), models_in(exported)
    assert sorted(from_repository) == sorted(from_export) == ["alexnet", "alexnet_int8"]
    for name in from_export:
        assert file_digest(from_repository[name]) == file_digest(from_export[name])
    assert list(models_in(exported / "model.int8.onnx")) == ["alexnet"]


@pytest.mark.unit
def test_a_directory_without_models_is_refused_in_one_line(tmp_path):
    with pytest.raises(InputError, match="neither a model file, an export directory"):
        models_in(tmp_path)
    with pytest.raises(InputError, match="made by the export step"):
        write_model_repository(tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _external_model(folder, location: str):
    """A small model of the project's contract whose weights are external data at `location`
    (relative to the model's folder), the way onnx writes a model over 2 GB."""
    import json

    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from onnx.external_data_helper import convert_model_to_external_data

    nodes = [
        helper.make_node("Cast", ["image"], ["pixels"], to=TensorProto.FLOAT),
        helper.make_node("Flatten", ["pixels"], ["flat"]),
        helper.make_node("MatMul", ["flat", "weights"], ["scores"]),
        helper.make_node("Softmax", ["scores"], ["probabilities"], axis=1),
    ]
    weights = np.random.default_rng(0).normal(0, 1e-3, (3072, 10)).astype(np.float32)
    graph = helper.make_graph(
        nodes,
        "external",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["N", 32, 32, 3])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 10])],
        [numpy_helper.from_array(weights, "weights")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"class_names": json.dumps([f"c{i}" for i in range(10)])})
    convert_model_to_external_data(model, location="weights.bin", size_threshold=0)
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "model.onnx"))
    # then name the data where asked, as a hostile or hand-made file may (onnx refuses to write it)
    stored = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    (entry,) = [e for e in stored.graph.initializer[0].external_data if e.key == "location"]
    entry.value = location
    (folder / "model.onnx").write_bytes(stored.SerializeToString())
    if not location.startswith(".."):
        (folder / location).parent.mkdir(parents=True, exist_ok=True)
        (folder / "weights.bin").rename(folder / location)
    return folder


@pytest.mark.unit
@pytest.mark.parametrize("location", ["model.onnx.data", "weights/all.bin"])
def test_external_data_is_laid_out_beside_the_model(tmp_path, location):
    import numpy as np

    export = _external_model(tmp_path / "export", location)
    assert write_model_repository(export, tmp_path / "repo") == {"alexnet": "alexnet/1/model.onnx"}
    placed = tmp_path / "repo" / "alexnet" / "1" / location
    assert file_digest(placed) == file_digest(export / location)
    images = np.random.default_rng(1).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    served = OnnxClassifier(tmp_path / "repo" / "alexnet" / "1" / "model.onnx").predict(images)
    assert np.array_equal(served, OnnxClassifier(export / "model.onnx").predict(images))


@pytest.mark.unit
@pytest.mark.parametrize("hostile", ["escaping", "link", "missing"])
def test_external_data_outside_the_models_folder_is_refused(tmp_path, hostile):
    export = _external_model(tmp_path / "export", "model.onnx.data")
    data = export / "model.onnx.data"
    if hostile == "escaping":  # the model names a file outside its folder
        export = _external_model(tmp_path / "export2", "../secret.bin")
        (tmp_path / "secret.bin").write_bytes((export / "weights.bin").read_bytes())
    elif hostile == "link":
        (tmp_path / "elsewhere.bin").write_bytes(data.read_bytes())
        data.unlink()
        data.symlink_to(tmp_path / "elsewhere.bin")
    else:
        data.unlink()
    with pytest.raises(InputError) as refused:
        write_model_repository(export, tmp_path / "repo")
    assert "\n" not in str(refused.value) and str(export / "model.onnx") in str(refused.value)
    assert not (tmp_path / "repo").exists()
