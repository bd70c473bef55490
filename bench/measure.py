"""What every bench script measures the same way: the machine line, batch-1 latency, batch-256
throughput and the peak RSS of a fresh process. Imported by the scripts beside it."""

import statistics
import subprocess
import sys
import time
from pathlib import Path

from alexnet_kfp.machine import describe_cpu

ROUNDS_B1, ROUNDS_B256 = 200, 8
# The real CIFAR-10 archive beside the checkout (../shared/data), used through the normal source
# option.
SHARED_ARCHIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar-10-python.tar.gz"
SHARED_SHA256 = "f6cb127c49ee2545f5e8eb68f4cffe2eee9fc67e59676ca447f0692db63a56e2"

_RSS_CHILD = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
x = np.random.default_rng(0).integers(0, 256, (256, 32, 32, 3), dtype=np.uint8)
if sys.argv[1] == "onnx":
    from alexnet_kfp.inference.onnx_classifier import OnnxClassifier
    OnnxClassifier(sys.argv[2]).predict(x)
else:
    import keras
    keras.models.load_model(sys.argv[2], compile=False).predict(x, verbose=0)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (large) parent across exec.
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024)
"""


def print_machine() -> None:
    """Every figure is printed under the CPU it was measured on: compare only figures of one run."""
    print(
        f"machine: {describe_cpu()}; python {sys.version.split()[0]}; "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}"
    )


def median_latency_ms(predict, image) -> float:
    for _ in range(10):
        predict(image)
    times = []
    for _ in range(ROUNDS_B1):
        started = time.perf_counter()
        predict(image)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


def images_per_second(predict, batch) -> float:
    predict(batch)
    started = time.perf_counter()
    for _ in range(ROUNDS_B256):
        predict(batch)
    return ROUNDS_B256 * len(batch) / (time.perf_counter() - started)


def best_of(predictors: dict, one, batch, repeats: int = 3) -> dict[str, tuple[float, float]]:
    """{name: (batch-1 median ms, batch-256 img/s)}, each predictor measured in turn `repeats` times
    and its best reading kept: on a shared machine the slow readings are other people's load."""
    readings = {name: [] for name in predictors}
    for _ in range(repeats):
        for name, predict in predictors.items():
            readings[name].append(
                (median_latency_ms(predict, one), images_per_second(predict, batch))
            )
    return {name: (min(r[0] for r in rs), max(r[1] for r in rs)) for name, rs in readings.items()}


def ort_predictor(path: Path):
    """A model file's onnxruntime session (OnnxClassifier's settings) as a function of a uint8
    batch."""
    from alexnet_kfp.inference.onnx_classifier import OnnxClassifier

    session = OnnxClassifier(path).session
    return lambda x: session.run(None, {"image": x})[0]


def training_split(dataset_dir: Path | None):
    """(x, y) of a Dataset's training split; without a directory, one made from the shared
    archive."""
    import tempfile

    from alexnet_kfp.data.npz import load_split
    from alexnet_kfp.data.prepare import prepare_dataset

    if dataset_dir is None:
        dataset_dir = Path(tempfile.mkdtemp()) / "dataset"
        prepare_dataset(dataset_dir, source=str(SHARED_ARCHIVE), sha256=SHARED_SHA256)
    return load_split(dataset_dir, "train")


def peak_rss_mib(kind: str, path: Path) -> float:
    """Peak RSS of a new process that loads the model ("onnx" or "keras") and predicts 256
    images."""
    out = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])
