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


def _check_headers(path: Path) -> None:
    """Each member's .npy header must describe no more bytes than the member holds, so that a forged
    header (declaring, say, 29 GiB) is refused before numpy allocates for it."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            with archive.open(info) as f:
                version = np.lib.format.read_magic(f)
                read_header = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read_header(f)
                if dtype.hasobject:
                    raise ValueError(f"member {info.filename} holds Python objects")
                claimed = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                if claimed > info.file_size:
                    raise ValueError(
                        f"member {info.filename} declares {claimed} bytes but holds "
                        f"{info.file_size}"
                    )


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz this project wrote, or one line naming the file when it is not one."""
    try:
        _check_headers(path)
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise InputError(
            f"{path}: not a readable .npz of this project ({e}); make the Dataset again"
        ) from None


def load_split(
    dataset_dir: Path, split: str, classes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(x uint8 NHWC, y int64) of one split, with a clear error when the Dataset is not one; with
    `classes`, the split must hold images and every label must name one of them."""
    path = Path(dataset_dir) / f"{split}.npz"
    if not path.is_file():
        raise InputError(f"{path} not found: expected a Dataset directory (made by the data step)")
    arrays = load_npz(path)
    x, y = arrays.get("x"), arrays.get("y")
    if (
        x is None
        or y is None
        or x.dtype != np.uint8
        or x.shape[1:] != (32, 32, 3)
        or len(x) != len(y)
    ):
        raise InputError(
            f"{path}: expected x uint8 (N, 32, 32, 3) and y (N,), found {getattr(x, 'shape', None)}"
        )
    if classes is not None:
        if not len(y):
            raise InputError(f"{path}: the {split} split holds no image")
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= classes:
            raise InputError(
                f"{path}: labels must be whole numbers 0-{classes - 1} (the Dataset's {classes} "
                f"classes), found {y.min()}-{y.max()} ({y.dtype})"
            )
    return x, y
