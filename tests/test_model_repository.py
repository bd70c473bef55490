"""The Triton model repository: config.pbtxt parsed by Triton's own ModelConfig protobuf (from
tritonclient), labels and model files checked against the export they came from."""

import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from alexnet_kfp.errors import InputError
from alexnet_kfp.export.model_repository import MAX_BATCH_SIZE, models_in, write_model_repository
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
        and config.max_batch_size == MAX_BATCH_SIZE
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
