"""What every bench script measures the same way: the machine line, batch-1 latency, batch-256
throughput and the peak RSS of a fresh process. Imported by the scripts beside it."""

import statistics
import subprocess
import sys
import time
from pathlib import Path

from alexnet_kfp.machine import describe_cpu

ROUNDS_B1, ROUNDS_B256 = 200, 8

_RSS_CHILD = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
x = np.random.default_rng(0).integers(0, 256, (256, 32, 32, 3), dtype=np.uint8)
if sys.argv[1] == "onnx":
    from alexnet_kfp.serve.onnx_classifier import OnnxClassifier
    OnnxClassifier(sys.argv[2]).predict(x)
else:
    import keras
    keras.models.load_model(sys.argv[2], compile=False).predict(x, verbose=0)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (large) parent across exec.
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024)
"""


def print_machine() -> None:
    """Every figure is printed under the CPU it was measured on: compare only figures of one run."""
    print(f"machine: {describe_cpu()}; python {sys.version.split()[0]}; {time.strftime('%Y-%m-%d %H:%M %Z')}")


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


def peak_rss_mib(kind: str, path: Path) -> float:
    """Peak RSS of a new process that loads the model ("onnx" or "keras") and predicts 256 images."""
    out = subprocess.run([sys.executable, "-c", _RSS_CHILD, kind, str(path)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])
