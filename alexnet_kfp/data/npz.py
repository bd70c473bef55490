"""Deterministic .npz files: numpy's own savez stamps the current time into the zip, so two
identical datasets would differ in bytes. We fix the zip timestamps and store uncompressed
(CIFAR pixels barely compress, and loading stays a plain read)."""

import zipfile
from pathlib import Path

import numpy as np

from alexnet_kfp.errors import InputError

_EPOCH = (1980, 1, 1, 0, 0, 0)


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH)
            with archive.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(array), allow_pickle=False)


def load_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def load_split(dataset_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(x uint8 NHWC, y int64) of one split, with a clear error when the Dataset is not one."""
    path = Path(dataset_dir) / f"{split}.npz"
    if not path.is_file():
        raise InputError(f"{path} not found: expected a Dataset directory (made by the data step)")
    arrays = load_npz(path)
    x, y = arrays.get("x"), arrays.get("y")
    if x is None or y is None or x.dtype != np.uint8 or x.shape[1:] != (32, 32, 3) or len(x) != len(y):
        raise InputError(f"{path}: expected x uint8 (N, 32, 32, 3) and y (N,), found {getattr(x, 'shape', None)}")
    return x, y
