"""Parse the two official CIFAR-10 layouts into arrays, validating everything, executing nothing.

- python version (`cifar-10-batches-py/`): pickled dicts. They are read with a restricted
  unpickler that can build nothing but numpy arrays, dicts, lists, bytes and numbers.
- binary version (`cifar-10-batches-bin/`): records of 1 label byte + 3072 pixel bytes; no pickle.
Pixels come as 1024 red, 1024 green, 1024 blue values per image; we return NHWC uint8.
"""

import io
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np
from numpy._core.multiarray import _reconstruct

from alexnet_kfp.errors import InputError

NUM_CLASSES = 10
IMAGE_BYTES = 32 * 32 * 3
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
PYTHON_FILES = (*TRAIN_BATCHES, TEST_BATCH, "batches.meta")
BINARY_FILES = (*(f"{b}.bin" for b in TRAIN_BATCHES), f"{TEST_BATCH}.bin", "batches.meta.txt")


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """What Python 3 protocol-2 pickles call (as _codecs.encode) to rebuild a bytes object."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(
            f"_codecs.encode with {encoding!r} is not how bytes are pickled"
        )
    return text.encode("latin1")


# The only globals an official batch references (numpy 1.x pickles say numpy.core, 2.x numpy._core),
# plus the bytes reconstruction of batches re-pickled by Python 3 with protocol 2.
_ALLOWED_GLOBALS = {
    ("_codecs", "encode"): _latin1_bytes,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
}


@dataclass
class Cifar10:
    x_train: np.ndarray  # (N, 32, 32, 3) uint8
    y_train: np.ndarray  # (N,) int64
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    layout: str  # "python" or "binary"


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, origin: str):
        super().__init__(io.BytesIO(data), encoding="bytes")
        self.origin = origin

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise InputError(
                f"{self.origin}: the pickle asks for {module}.{name}, which no CIFAR-10 batch "
                "needs; refusing to load it (the file may be malicious)"
            ) from None


def safe_unpickle(data: bytes, origin: str):
    """Unpickle `data`, allowing only the numpy array reconstruction a CIFAR batch uses."""
    try:
        return _RestrictedUnpickler(data, origin).load()
    except InputError:
        raise
    except Exception as e:  # a malformed pickle can raise nearly anything
        raise InputError(
            f"{origin}: not a readable CIFAR-10 pickle ({type(e).__name__}: {e})"
        ) from e


def _text_keys(obj, origin: str) -> dict:
    if not isinstance(obj, dict):
        raise InputError(f"{origin}: expected a dict, found {type(obj).__name__}")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _validate(
    pixels, labels, origin: str, expected_count: int | None
) -> tuple[np.ndarray, np.ndarray]:
    if (
        not isinstance(pixels, np.ndarray)
        or pixels.dtype != np.uint8
        or pixels.ndim != 2
        or pixels.shape[1] != IMAGE_BYTES
    ):
        shape = getattr(pixels, "shape", None)
        raise InputError(
            f"{origin}: 'data' must be a uint8 array of shape (N, {IMAGE_BYTES}), found "
            f"{type(pixels).__name__} {shape}"
        )
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu" or labels.shape != (len(pixels),):
        raise InputError(
            f"{origin}: 'labels' must be {len(pixels)} integers, found {labels.dtype} "
            f"{labels.shape}"
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise InputError(
            f"{origin}: labels must lie in 0..{NUM_CLASSES - 1}, found "
            f"{labels.min()}..{labels.max()}"
        )
    if expected_count is not None and len(pixels) != expected_count:
        raise InputError(
            f"{origin}: holds {len(pixels)} images, but batches.meta says {expected_count} per "
            "batch"
        )
    if len(pixels) == 0:
        raise InputError(f"{origin}: holds no images")
    nhwc = pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(nhwc), labels.astype(np.int64)


def _class_names(names, origin: str) -> list[str]:
    try:
        names = [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names]
    except (UnicodeDecodeError, TypeError) as e:
        raise InputError(f"{origin}: class names are not UTF-8 text ({e})") from None
    if len(names) != NUM_CLASSES or not all(names):
        raise InputError(f"{origin}: expected {NUM_CLASSES} class names, found {names}")
    return names


def _parse_python(files: Mapping[str, bytes], where: str) -> Cifar10:
    meta = _text_keys(
        safe_unpickle(files["batches.meta"], f"{where}/batches.meta"), f"{where}/batches.meta"
    )
    class_names = _class_names(meta.get("label_names", []), f"{where}/batches.meta")
    per_batch = meta.get("num_cases_per_batch")
    arrays = {}
    for batch in (*TRAIN_BATCHES, TEST_BATCH):
        origin = f"{where}/{batch}"
        content = _text_keys(safe_unpickle(files[batch], origin), origin)
        if "data" not in content or "labels" not in content:
            raise InputError(f"{origin}: missing 'data' or 'labels' (keys: {sorted(content)})")
        arrays[batch] = _validate(content["data"], content["labels"], origin, per_batch)
    return _assemble(arrays, class_names, "python")


def _parse_binary(files: Mapping[str, bytes], where: str) -> Cifar10:
    lines = files["batches.meta.txt"].decode("utf-8", errors="replace").splitlines()
    class_names = _class_names(
        [line.strip() for line in lines if line.strip()], f"{where}/batches.meta.txt"
    )
    arrays = {}
    for batch in (*TRAIN_BATCHES, TEST_BATCH):
        origin = f"{where}/{batch}.bin"
        raw = files[f"{batch}.bin"]
        if len(raw) % (IMAGE_BYTES + 1):
            raise InputError(
                f"{origin}: {len(raw)} bytes is not a whole number of {IMAGE_BYTES + 1}-byte "
                "records"
            )
        records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, IMAGE_BYTES + 1)
        arrays[batch] = _validate(records[:, 1:], records[:, 0], origin, None)
    counts = {len(arrays[b][0]) for b in TRAIN_BATCHES}
    if len(counts) != 1:
        raise InputError(
            f"{where}: training batches differ in size ({sorted(counts)} images); the archive is "
            "damaged"
        )
    return _assemble(arrays, class_names, "binary")


def _assemble(arrays, class_names, layout) -> Cifar10:
    x_train = np.concatenate([arrays[b][0] for b in TRAIN_BATCHES])
    y_train = np.concatenate([arrays[b][1] for b in TRAIN_BATCHES])
    x_test, y_test = arrays[TEST_BATCH]
    return Cifar10(x_train, y_train, x_test, y_test, class_names, layout)


def parse_cifar10(files: Mapping[str, bytes], where: str) -> Cifar10:
    """Parse {file name (base name or path): bytes} of either official layout; `where` names it in
    errors."""
    by_name = {PurePosixPath(name).name: data for name, data in files.items()}
    for names, parse in ((PYTHON_FILES, _parse_python), (BINARY_FILES, _parse_binary)):
        present = [n for n in names if n in by_name]
        if len(present) == len(names):
            return parse(by_name, where)
        if present:
            missing = ", ".join(n for n in names if n not in by_name)
            raise InputError(f"{where}: not a complete CIFAR-10 archive; missing {missing}")
    raise InputError(
        f"{where}: holds no CIFAR-10 batches (expected cifar-10-batches-py/ or "
        "cifar-10-batches-bin/)"
    )


def is_cifar_file(name: str) -> bool:
    """True for the member names worth reading from an archive."""
    return PurePosixPath(name).name in PYTHON_FILES + BINARY_FILES
