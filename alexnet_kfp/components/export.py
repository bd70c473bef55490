"""The export step: Keras model -> ONNX (tf2onnx), and verify(): Keras vs onnxruntime parity.

Export converts with tf2onnx *without* its own ONNX optimizers and lets onnxruntime's basic
(hardware-independent, standard-ops-only) graph optimizer clean the graph instead: same graph
quality (BatchNorm fused into Conv, kernel transposes folded, MatMul+Add -> Gemm) at half the
peak memory. Measured on the 25.7 M-parameter seed net: tf2onnx's optimizer passes kept ~3.6 GiB
of copies of the weights alive (peak 6.6 GiB); without them the peak is 3.0 GiB, all of it
TensorFlow: 1.15 GiB for the runtime and the loaded model, +0.7 GiB to freeze the variables into
constants, +1.0 GiB for grappler's pass over the frozen graph (see README, "Export memory").
"""

import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402

from alexnet_kfp import __version__  # noqa: E402
from alexnet_kfp.components.artifacts import class_names_of, keras_model_path, read_json_if_present  # noqa: E402
from alexnet_kfp.components.atomic_dir import atomic_output_dir  # noqa: E402
from alexnet_kfp.components.fetch import file_digest  # noqa: E402

DEFAULT_OPSET = 17
INPUT_NAME, OUTPUT_NAME = "image", "probabilities"


def _peak_rss_mib() -> float:
    """This process's peak RSS: VmHWM (Linux's ru_maxrss also counts a parent's peak from before exec)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _convert(model: keras.Model, opset: int, raw_path: Path) -> None:
    signature = (tf.TensorSpec((None, 32, 32, 3), tf.uint8, name=INPUT_NAME),)
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=signature, opset=opset, optimizers={})
    if [o.name for o in proto.graph.output] != [OUTPUT_NAME]:
        raise RuntimeError(f"unexpected ONNX outputs {[o.name for o in proto.graph.output]}")
    onnx.save(proto, raw_path)


def _optimize(raw_path: Path, out_path: Path) -> None:
    """onnxruntime's basic level: constant folding and standard fusions, only standard ONNX ops."""
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(out_path)
    onnxruntime.InferenceSession(str(raw_path), options, providers=["CPUExecutionProvider"])


def export(model_dir: str | Path, out_dir: str | Path, opset: int = DEFAULT_OPSET,
           metrics_path: str | Path | None = None) -> dict:
    """Write model.onnx (uint8 `image` [N,32,32,3] -> float32 `probabilities` [N,10]) and export.json."""
    model_dir = Path(model_dir)
    model_path = keras_model_path(model_dir)
    train_record = read_json_if_present(model_dir / "train.json")
    metrics = read_json_if_present(Path(metrics_path)) if metrics_path else {}
    started = time.perf_counter()
    model = keras.models.load_model(model_path, compile=False)
    with atomic_output_dir(out_dir) as staging, tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw.onnx"
        _convert(model, opset, raw)
        onnx_path = staging / "model.onnx"
        _optimize(raw, onnx_path)
        proto = onnx.load(onnx_path)
        class_names = class_names_of(train_record)
        versions = {"alexnet-kfp": __version__, "tensorflow": tf.__version__, "keras": keras.__version__,
                    "tf2onnx": tf2onnx.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}
        properties = {
            "class_names": json.dumps(class_names),
            "input": "image: uint8 [batch, 32, 32, 3], RGB, NHWC, raw pixel values 0-255 (scaling is inside)",
            "output": "probabilities: float32 [batch, num_classes], softmax",
            "source_model_sha256": file_digest(model_path),
            "variant": train_record.get("parameters", {}).get("variant", "unknown"),
            "test_accuracy": json.dumps(metrics.get("accuracy")),
            "versions": json.dumps(versions),
        }
        onnx.helper.set_model_props(proto, properties)
        proto.doc_string = "AlexNet trained on CIFAR-10 by alexnet-kfp"
        proto.producer_name, proto.producer_version = "alexnet-kfp", __version__
        onnx.checker.check_model(proto, full_check=True)
        onnx.save(proto, onnx_path)
        record = {
            "kind": "alexnet-kfp/onnx",
            "opset": opset,
            "file": "model.onnx",
            "bytes": onnx_path.stat().st_size,
            "sha256": file_digest(onnx_path),
            "conversion_seconds": round(time.perf_counter() - started, 1),
            "process_peak_rss_mib": round(_peak_rss_mib()),
            "metadata": properties,
            "versions": {**versions, "numpy": np.__version__, "python": platform.python_version()},
        }
        (staging / "export.json").write_text(json.dumps(record, indent=2) + "\n")
    return record
