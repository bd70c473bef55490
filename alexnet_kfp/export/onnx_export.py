"""The export step: Keras model -> model.onnx (tf2onnx) and model.int8.onnx (onnxruntime's static
quantisation, calibrated on the training split), each with its metadata, and export.json.

tf2onnx converts *without* its own ONNX optimizers, and onnxruntime's basic (standard-ops-only)
graph optimizer cleans the graph instead: the same graph (BatchNorm folded into Conv, kernel
transposes folded, MatMul+Add -> Gemm) at about half the peak memory (docs/benchmarks.md, "Export
memory"). fold.py then folds the Dense layers' BatchNorm, which no onnxruntime optimizer does.
The parity check is in parity.py.
"""

import hashlib
import json
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import keras
import onnx
import onnxruntime
import tensorflow as tf
import tf2onnx

from alexnet_kfp import __version__
from alexnet_kfp.artifacts import (
    class_names_of,
    dataset_classes_for,
    keras_model_path,
)
from alexnet_kfp.data.npz import load_split
from alexnet_kfp.export import DEFAULT_OPSET, check_opset
from alexnet_kfp.export.fold import fold_dense_batchnorm
from alexnet_kfp.export.quantize import CALIBRATION_SEED, Int8Recipe, calibration_sample, quantize
from alexnet_kfp.export.tracking import log_export
from alexnet_kfp.files import (
    atomic_output_dir,
    check_output_dir,
    file_digest,
    temporary_files_in,
)
from alexnet_kfp.inference import FLOAT_FILE, INT8_FILE, TRIAL_KEY, trial_note
from alexnet_kfp.inference.probabilities import load_keras_model
from alexnet_kfp.records import (
    Calibration,
    ExportRecord,
    Int8Export,
    MetricsRecord,
    TrainRecord,
    provenance,
)

INPUT_NAME, OUTPUT_NAME = "image", "probabilities"
DEFAULT_INT8_RECIPE = Int8Recipe()  # frozen: safe to share as a default


def _peak_rss_mib() -> float:
    """This process's peak RSS: VmHWM (Linux's ru_maxrss also counts a parent's peak from before
    exec)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _convert(model: keras.Model, opset: int, raw_path: Path) -> None:
    signature = (tf.TensorSpec((None, 32, 32, 3), tf.uint8, name=INPUT_NAME),)
    proto, _ = tf2onnx.convert.from_keras(
        model, input_signature=signature, opset=opset, optimizers={}
    )
    if [o.name for o in proto.graph.output] != [OUTPUT_NAME]:
        raise RuntimeError(f"unexpected ONNX outputs {[o.name for o in proto.graph.output]}")
    onnx.save(proto, raw_path)


def _optimize(raw_path: Path, out_path: Path) -> None:
    """onnxruntime's basic level: constant folding and standard fusions, only standard ONNX ops."""
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(out_path)
    onnxruntime.InferenceSession(str(raw_path), options, providers=["CPUExecutionProvider"])


class Exported(NamedTuple):
    """What export made: export.json's record, and the float32 model's MLflow 3 logged model
    (its `models:/` URI, for the register step; empty when not logged: not in export.json)."""

    record: ExportRecord
    mlflow_model: str


@dataclass
class _SavedFile:
    file: str
    bytes: int
    sha256: str


def _finish(proto: onnx.ModelProto, properties: dict, path: Path) -> _SavedFile:
    """Stamp the metadata, check the model, save it; return its file record for export.json."""
    onnx.helper.set_model_props(proto, properties)
    proto.doc_string = "AlexNet trained on CIFAR-10 by alexnet-kfp"
    proto.producer_name, proto.producer_version = "alexnet-kfp", __version__
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, path)
    return _SavedFile(path.name, path.stat().st_size, file_digest(path))


def _int8(
    float_path: Path, dataset_dir: Path, recipe: Int8Recipe, properties: dict, out_path: Path
) -> Int8Export:
    """model.int8.onnx: calibrated on the training split, with the float model's metadata plus
    how."""
    x_train, y_train = load_split(dataset_dir, "train")
    images, indices = calibration_sample(
        x_train, y_train, recipe.calibration_images, seed=CALIBRATION_SEED
    )
    info = quantize(float_path, out_path, images, recipe)
    calibration = Calibration(
        split="train",
        images=int(len(images)),
        seed=CALIBRATION_SEED,
        indices_sha256=hashlib.sha256(indices.astype("<i8").tobytes()).hexdigest(),
    )
    info["calibration"] = asdict(calibration)
    info["float_model_sha256"] = file_digest(float_path)
    # the evaluated accuracy is the float model's; the int8 model's own is measured by verify
    # (parity.json)
    int8_properties = {
        **{k: v for k, v in properties.items() if k != "test_accuracy"},
        "float32_test_accuracy": properties["test_accuracy"],
        "precision": "int8",
        "quantization": json.dumps(info, sort_keys=True),
    }
    saved = _finish(onnx.load(out_path), int8_properties, out_path)
    return Int8Export(
        file=saved.file,
        bytes=saved.bytes,
        sha256=saved.sha256,
        recipe=info["recipe"],
        quantized_op_types=info["quantized_op_types"],
        quantization_seconds=info["quantization_seconds"],
        calibration=calibration,
        float_model_sha256=info["float_model_sha256"],
    )


def _trial(trained: TrainRecord | None, metrics: MetricsRecord | None) -> dict[str, str]:
    """{TRIAL_KEY: what to say} for a model trained on a sample of the data (its train.json,
    else the evaluation's record, says how large), else nothing."""
    limit = trained.dataset.limit_per_class if trained else None
    if limit is None and metrics is not None:
        limit = metrics.run.limit_per_class
    return {TRIAL_KEY: trial_note(limit)} if limit else {}


def export(
    model_dir: str | Path,
    out_dir: str | Path,
    opset: int = DEFAULT_OPSET,
    metrics_path: str | Path | None = None,
    dataset_dir: str | Path | None = None,
    int8: Int8Recipe | None = DEFAULT_INT8_RECIPE,
) -> "Exported":
    """Write model.onnx (uint8 `image` [N,32,32,3] -> float32 `probabilities` [N,10]), export.json
    and, given the Dataset directory to calibrate on and a recipe, model.int8.onnx with the same
    contract. With a tracking URI, both models are MLflow 3 logged models; `mlflow_model` is
    the float32 one's `models:/` URI (empty when not logged)."""
    check_opset(opset)
    if int8 is not None:
        int8.check()
    model_dir = Path(model_dir)
    check_output_dir(out_dir)
    model_path = keras_model_path(model_dir)
    trained = TrainRecord.read_if_present(model_dir)
    metrics = MetricsRecord.read(metrics_path) if metrics_path else None
    if dataset_dir is not None and int8 is not None:
        # a bad Dataset, or one of other classes, fails here, before the minutes of conversion
        classes = dataset_classes_for(model_dir, Path(dataset_dir))
        load_split(Path(dataset_dir), "train", len(classes))
    started = time.perf_counter()
    model = load_keras_model(model_path)
    with atomic_output_dir(out_dir) as staging, temporary_files_in(staging) as scratch:
        raw = scratch / "raw.onnx"
        _convert(model, opset, raw)
        onnx_path = staging / FLOAT_FILE
        _optimize(raw, onnx_path)
        proto = onnx.load(onnx_path)
        folded = fold_dense_batchnorm(proto)
        class_names = class_names_of(trained)
        versions = provenance(tf, keras, tf2onnx, onnx, onnxruntime)
        properties = {
            "class_names": json.dumps(class_names),
            "input": "image: uint8 [batch, 32, 32, 3], RGB, NHWC, raw pixel values 0-255 "
            "(scaling is inside)",
            "output": "probabilities: float32 [batch, num_classes], softmax",
            "source_model_sha256": file_digest(model_path),
            "variant": trained.variant if trained else "unknown",
            "test_accuracy": json.dumps(metrics.accuracy if metrics else None),
            "versions": json.dumps(versions),
            **_trial(trained, metrics),
        }
        float_record = _finish(proto, {**properties, "precision": "float32"}, onnx_path)
        conversion_seconds = round(time.perf_counter() - started, 1)
        int8_record = None
        if dataset_dir is not None and int8 is not None:
            int8_record = _int8(onnx_path, Path(dataset_dir), int8, properties, staging / INT8_FILE)
        record = ExportRecord(
            opset=opset,
            file=float_record.file,
            bytes=float_record.bytes,
            sha256=float_record.sha256,
            dense_batchnorms_folded=folded,
            int8=int8_record,
            conversion_seconds=conversion_seconds,
            process_peak_rss_mib=round(_peak_rss_mib()),
            metadata=properties,
            versions=versions,
        )
        record.write(staging)
    return Exported(record, log_export(record, Path(out_dir), metrics) or "")
