"""A CIFAR-10 archive the tests make: the official python layout and the small real archive's
size (5 batches of 1,000 train images, a 1,000-image test batch, 10 balanced classes), with
images a network can learn (each class its own colour and stripe direction, plus noise)."""

import gzip
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

CLASS_NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
PER_BATCH, TRAIN_BATCHES = 1000, 5


def _images(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 (N, 32, 32, 3): a colour and a stripe pattern per class, under noise."""
    colours = np.linspace(40, 215, 10)
    y, x = np.mgrid[0:32, 0:32]
    images = np.empty((len(labels), 32, 32, 3), dtype=np.float32)
    for c in range(10):
        angle = np.pi * c / 10
        stripes = 40 * np.sin((x * np.cos(angle) + y * np.sin(angle)) / 2.5)
        base = np.stack(
            [colours[c] + stripes, colours[9 - c] - stripes, np.full_like(stripes, 128)], -1
        )
        chosen = labels == c
        images[chosen] = base + rng.normal(0, 30, (int(chosen.sum()), 32, 32, 3))
    return np.clip(images, 0, 255).astype(np.uint8)


def _batch(name: str, labels: np.ndarray, rng: np.random.Generator) -> bytes:
    planes = _images(labels, rng).transpose(0, 3, 1, 2).reshape(len(labels), -1)
    return pickle.dumps(
        {
            b"batch_label": name.encode(),
            b"labels": labels.tolist(),
            b"data": planes,
            b"filenames": [f"{name}_{i}.png".encode() for i in range(len(labels))],
        },
        protocol=2,
    )


def write_synthetic_archive(path: Path, seed: int = 0, per_batch: int = PER_BATCH) -> Path:
    """cifar-10-python.tar.gz's layout with generated images, `per_batch` in each of its six
    batches; the same bytes for the same seed."""
    rng = np.random.default_rng(seed)
    members = {
        "batches.meta": pickle.dumps(
            {
                b"label_names": [n.encode() for n in CLASS_NAMES],
                b"num_cases_per_batch": per_batch,
                b"num_vis": 3072,
            },
            protocol=2,
        )
    }
    for i in range(1, TRAIN_BATCHES + 1):
        members[f"data_batch_{i}"] = _batch(
            f"data_batch_{i}", rng.permutation(np.arange(per_batch) % 10), rng
        )
    members["test_batch"] = _batch("test_batch", rng.permutation(np.arange(per_batch) % 10), rng)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    return path
