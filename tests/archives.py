"""Build (possibly hostile) tar.gz archives for tests from the real small archive's members."""

import io
import tarfile
from pathlib import Path

import numpy as np


def members_of(archive: Path) -> dict[str, bytes]:
    """Regular-file members of a trusted test archive (our own copy of the small archive)."""
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def write_tar_gz(path: Path, files: dict[str, bytes], extra: list[tarfile.TarInfo] = ()) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return path


def binary_archive_from(
    x: dict[str, np.ndarray], y: dict[str, np.ndarray], class_names: list[str], path: Path
) -> Path:
    """The official binary layout: per image 1 label byte + 1024 R + 1024 G + 1024 B bytes."""
    files = {"cifar-10-batches-bin/batches.meta.txt": ("\n".join(class_names) + "\n\n").encode()}
    for batch in x:
        planes = x[batch].transpose(0, 3, 1, 2).reshape(len(x[batch]), -1)
        records = np.concatenate([y[batch].astype(np.uint8)[:, None], planes], axis=1)
        files[f"cifar-10-batches-bin/{batch}.bin"] = records.tobytes()
    return write_tar_gz(path, files)
