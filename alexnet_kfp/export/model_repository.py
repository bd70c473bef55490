"""The Triton model repository KServe's `kserve-tritonserver` runtime loads from /mnt/models:

    model_repository/
      alexnet/        config.pbtxt, labels.txt, 1/model.onnx          (float32)
      alexnet_int8/   config.pbtxt, labels.txt, 1/model.onnx          (int8, when exported)

Each model keeps the exported contract (uint8 `image` [-1, 32, 32, 3] -> float32 `probabilities`
[-1, 10]); labels.txt gives Triton's classification extension the class names, so a client can ask
for "the top 3 with names" instead of raw probabilities. A model that keeps its tensors in external
data files (ONNX's form for models over 2 GB) has them laid out beside its model.onnx. `alexnet-kfp
serve` reads the same layout. The config is written as protobuf text by hand (no tritonclient needed
at export time) and checked against Triton's own ModelConfig message by the tests.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from alexnet_kfp.errors import InputError
from alexnet_kfp.extras import install_hint
from alexnet_kfp.files import atomic_output_dir
from alexnet_kfp.inference import FLOAT_FILE, INT8_FILE
from alexnet_kfp.untrusted import is_whole_number, whole_number

FLOAT_MODEL, INT8_MODEL = "alexnet", "alexnet_int8"
# Triton's own batching, written into config.pbtxt: Triton runs the models on its own cores, so its
# knobs are its own (docs/serving.md), not `alexnet-kfp serve`'s (serve/config.py). Milliseconds,
# as everywhere in the project; config.pbtxt takes microseconds.
TRITON_MAX_BATCH_SIZE = 256  # Triton's dynamic batcher groups requests up to this many images
TRITON_PREFERRED_BATCH_SIZES = (64, 256)
TRITON_MAX_QUEUE_DELAY_MS = 2.0  # wait at most this long for other requests to batch with
VERSION = "1"


def config_pbtxt(name: str, num_classes: int) -> str:
    """Triton's config for one exported model: onnxruntime backend, CPU instances (a KServe GPU
    predictor overrides instance_group), dynamic batching, labels for the classification
    extension."""
    preferred = ", ".join(str(size) for size in TRITON_PREFERRED_BATCH_SIZES)
    return f'''name: "{name}"
backend: "onnxruntime"
max_batch_size: {TRITON_MAX_BATCH_SIZE}
input [
  {{
    name: "image"
    data_type: TYPE_UINT8
    dims: [ 32, 32, 3 ]
  }}
]
output [
  {{
    name: "probabilities"
    data_type: TYPE_FP32
    dims: [ {num_classes} ]
    label_filename: "labels.txt"
  }}
]
dynamic_batching {{
  preferred_batch_size: [ {preferred} ]
  max_queue_delay_microseconds: {round(TRITON_MAX_QUEUE_DELAY_MS * 1000)}
}}
version_policy: {{ latest: {{ num_versions: 1 }} }}
'''


def _place(source: Path, target: Path) -> None:
    """A hard link when source and target share a file system (no second copy of 100 MB), else a
    copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def external_data_files(model: Path) -> list[str]:
    """The files `model` keeps tensors in (ONNX external data, as a model over 2 GB must), by the
    relative paths it names them, each checked to be a regular file inside the model's folder: a
    location like ../../etc/passwd or a link is refused in one line."""
    try:
        import onnx
    except ImportError as e:
        raise InputError(
            f"laying out a model repository needs the `export` extra ({e}): "
            f"{install_hint(['export'])}"
        ) from None
    try:
        proto = onnx.load(str(model), load_external_data=False)
    except Exception as e:  # onnx raises DecodeError and others for a file that is no model
        raise InputError(f"{model}: not a readable ONNX model ({type(e).__name__})") from None
    locations = {
        entry.value
        for tensor in _tensors(proto.graph)
        if tensor.data_location == onnx.TensorProto.EXTERNAL
        for entry in tensor.external_data
        if entry.key == "location"
    }
    for location in sorted(locations):
        relative = Path(location)
        target = model.parent / relative
        if (
            relative.is_absolute()
            or ".." in relative.parts
            or target.is_symlink()
            or not target.is_file()
        ):
            raise InputError(
                f"{model}: its external data {location!r} is not a file beside the model (a path "
                "inside its folder, no link); refusing it"
            )
    return sorted(locations)


def _tensors(graph) -> Iterator:
    """Every tensor of an ONNX graph: initializers (sparse ones too), and those in node attributes
    and subgraphs."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield from (sparse.values, sparse.indices)
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            if attribute.HasField("g"):
                yield from _tensors(attribute.g)
            for subgraph in attribute.graphs:
                yield from _tensors(subgraph)


def _export_models(onnx_dir: Path) -> dict[str, Path]:
    """The model files an export directory holds, by model name (model.int8.onnx only if
    exported)."""
    files = {FLOAT_MODEL: onnx_dir / FLOAT_FILE, INT8_MODEL: onnx_dir / INT8_FILE}
    return {name: path for name, path in files.items() if path.is_file()}


def write_model_repository(onnx_dir: str | Path, out_dir: str | Path) -> dict:
    """Lay out the export directory's models as a Triton model repository in `out_dir` (new, or
    empty); return {model name: relative path of its model file}."""
    from alexnet_kfp.inference.onnx_classifier import (
        OnnxClassifier,
    )  # onnxruntime: only when writing

    onnx_dir = Path(onnx_dir)
    sources = _export_models(onnx_dir)
    if FLOAT_MODEL not in sources:
        raise InputError(
            f"{onnx_dir / FLOAT_FILE} not found: expected a directory made by the export step"
        )
    written = {}
    with atomic_output_dir(out_dir) as staging:
        for name, source in sources.items():
            class_names = OnnxClassifier(source).class_names
            version_dir = staging / name / VERSION
            version_dir.mkdir(parents=True)
            _place(source, version_dir / "model.onnx")
            for location in external_data_files(source):  # the tensors kept beside the model
                (version_dir / location).parent.mkdir(parents=True, exist_ok=True)
                _place(source.parent / location, version_dir / location)
            (staging / name / "config.pbtxt").write_text(config_pbtxt(name, len(class_names)))
            (staging / name / "labels.txt").write_text(
                "".join(f"{label}\n" for label in class_names)
            )
            written[name] = f"{name}/{VERSION}/model.onnx"
    return written


def models_in(path: str | Path) -> dict[str, Path]:
    """What `alexnet-kfp serve --model PATH` serves, by model name: a model repository (each model's
    highest numeric version), an export directory (model.onnx, and model.int8.onnx if there), or one
    model file (served as "alexnet")."""
    path = Path(path)
    if path.is_file():
        return {FLOAT_MODEL: path}
    if not path.is_dir():
        raise InputError(f"{path}: no such file or directory")
    if (path / FLOAT_FILE).is_file():
        return _export_models(path)
    found = {}
    for model_dir in sorted(p for p in path.iterdir() if (p / "config.pbtxt").is_file()):
        versions = sorted(
            (v for v in model_dir.iterdir() if _is_version(v) and (v / "model.onnx").is_file()),
            key=lambda v: int(v.name),
        )
        if versions:
            found[model_dir.name] = versions[-1] / "model.onnx"
    if not found:
        raise InputError(
            f"{path}: neither a model file, an export directory (model.onnx) nor a model "
            "repository (<name>/config.pbtxt, <name>/<version>/model.onnx)"
        )
    return found


def _is_version(folder: Path) -> bool:
    """Whether `folder` is a model version (its name digits 0-9, as Triton reads it); a name of
    other digits (Unicode's, or too many) is refused in one line rather than read or skipped."""
    if is_whole_number(folder.name):
        return True
    if folder.name.isdigit():
        whole_number(folder.name, f"{folder.parent}: version folder")
    return False
