"""Time parse + split of the full real CIFAR-10 archive (goal: <= 5 s on a 2-core machine).

Side by side, in one run: our path (vet every tar member in memory, restricted unpickler,
stratified split) vs the usual unsafe path (extractall to disk + plain pickle.load, what
keras.datasets.cifar10 does), so the price of safety is a measured ratio, not a guess.

    python bench/data_parse_split.py [ARCHIVE]
"""

import pickle
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
from measure import print_machine

from alexnet_kfp.data.prepare import load_cifar10, split_dataset

DEFAULT_ARCHIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar-10-python.tar.gz"
REPEATS = 3


def ours(archive: Path) -> tuple[float, float]:
    started = time.perf_counter()
    data = load_cifar10(archive)
    parsed = time.perf_counter()
    splits = split_dataset(data, val_fraction=0.3, seed=42, limit_per_class=None)
    assert len(splits["train"][1]) == 35000
    return parsed - started, time.perf_counter() - parsed


def unsafe_baseline(archive: Path) -> float:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="fully_trusted")  # the unsafe way: trusts every member
        batches = [
            pickle.loads(
                (Path(tmp) / "cifar-10-batches-py" / f"data_batch_{i}").read_bytes(),
                encoding="bytes",
            )
            for i in range(1, 6)
        ]
        x = (
            np.concatenate([b[b"data"] for b in batches])
            .reshape(-1, 3, 32, 32)
            .transpose(0, 2, 3, 1)
        )
        assert len(x) == 50000
    return time.perf_counter() - started


def main() -> None:
    print_machine()
    archive = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ARCHIVE
    parse_s, split_s, baseline_s = [], [], []
    for _ in range(REPEATS):
        p, s = ours(archive)
        parse_s.append(p)
        split_s.append(s)
        baseline_s.append(unsafe_baseline(archive))
    p, s, b = min(parse_s), min(split_s), min(baseline_s)
    print(f"archive: {archive} (best of {REPEATS})")
    print(f"ours: parse {p:.2f} s + split {s:.2f} s = {p + s:.2f} s (goal <= 5 s)")
    print(f"unsafe extractall + pickle.load (parse only): {b:.2f} s")
    print(f"ratio unsafe/ours: {b / (p + s):.2f}x")


if __name__ == "__main__":
    main()
