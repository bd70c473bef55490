"""Read the files of an untrusted tar(.gz) or zip into memory without extracting anything to disk.

Every member is vetted before anything is read: absolute paths, `..` components, links, devices,
oversized members and a file that appears twice are refused with an error that names the member.
Because nothing is written, nothing can land outside a target directory; this is stricter than
tarfile's `data` filter.
"""

import bz2
import gzip
import io
import lzma
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from alexnet_kfp.errors import InputError

MAX_MEMBER_BYTES = 256 * 2**20  # a CIFAR-10 batch is 31 MB; nothing legitimate comes near this
MAX_TOTAL_BYTES = 1 * 2**30


def _vet(member: tarfile.TarInfo, archive: Path) -> None:
    name = member.name
    path = PurePosixPath(name)
    if (
        path.is_absolute()
        or ".." in path.parts
        or name.startswith("\\")
        or ":" in (path.parts[0] if path.parts else "")
    ):
        raise InputError(
            f"{archive}: member {name!r} points outside the archive (absolute path or '..'); "
            "refusing it"
        )
    if member.issym() or member.islnk():
        raise InputError(
            f"{archive}: member {name!r} is a link to {member.linkname!r}; a data archive holds "
            "files, refusing it"
        )
    if not (member.isfile() or member.isdir()):
        raise InputError(
            f"{archive}: member {name!r} is a device, fifo or other special file; refusing it"
        )
    if member.size > MAX_MEMBER_BYTES:
        raise InputError(
            f"{archive}: member {name!r} claims {member.size} bytes (> {MAX_MEMBER_BYTES}); "
            "refusing it"
        )


def _once(path: PurePosixPath, seen: set[PurePosixPath], name: str, archive: Path) -> None:
    """Refuse a file the archive already held under this path (`./a` and `a` alike)."""
    if path in seen:
        raise InputError(
            f"{archive}: member {name!r} appears twice (a data archive holds each file once, and "
            "the copies may differ); refusing it"
        )
    seen.add(path)


_DECOMPRESSORS: dict[bytes, Callable[..., Any]] = {
    b"\x1f\x8b": gzip.open,
    b"BZh": bz2.open,
    b"\xfd7zXZ\x00": lzma.open,
}


def _decompressed(archive: Path) -> bytes:
    """The whole tar stream, decompressed to the end so that gzip's CRC and length are verified
    (tarfile's own stream mode stops at the end-of-archive marker and never checks them)."""
    with open(archive, "rb") as f:
        magic = f.read(6)
    opener: Callable[..., Any] = next(
        (o for m, o in _DECOMPRESSORS.items() if magic.startswith(m)), open
    )
    with opener(archive, "rb") as f:
        data = f.read(MAX_TOTAL_BYTES + 1)
    if len(data) > MAX_TOTAL_BYTES:
        raise InputError(
            f"{archive}: decompresses to more than {MAX_TOTAL_BYTES} bytes; refusing it"
        )
    return data


def read_tar_members(archive: Path, wanted: Callable[[str], bool]) -> dict[str, bytes]:
    """Return {member name: bytes} for the regular files `wanted(name)` selects, after vetting all
    members."""
    files: dict[str, bytes] = {}
    seen: set[PurePosixPath] = set()
    try:
        with tarfile.open(fileobj=io.BytesIO(_decompressed(archive)), mode="r:") as tar:
            for member in tar:
                _vet(member, archive)
                if member.isfile():  # a second copy would silently win: which one is meant?
                    _once(PurePosixPath(member.name), seen, member.name, archive)
                if member.isfile() and wanted(member.name):
                    member_file = tar.extractfile(member)
                    assert member_file is not None  # tarfile gives one for every regular file
                    data = member_file.read()
                    if len(data) != member.size:
                        raise EOFError(f"member {member.name!r} is cut short")
                    files[member.name] = data
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError, OSError) as e:
        raise InputError(
            f"{archive} is not a readable tar archive (truncated or corrupt?): {e}; download it "
            "again"
        ) from e
    return files


def read_zip_members(archive: Path) -> dict[str, bytes]:
    """{member name: bytes} of a zip's regular files, each vetted as a tar's are (paths, links,
    sizes, a name twice); the sizes read, not the sizes the directory claims, are what count."""
    files: dict[str, bytes] = {}
    seen: set[PurePosixPath] = set()
    total = 0
    try:
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                name = info.filename
                mode = info.external_attr >> 16
                as_tar = tarfile.TarInfo(name)
                as_tar.size = info.file_size
                as_tar.type = (
                    tarfile.SYMTYPE
                    if stat.S_ISLNK(mode)
                    else tarfile.DIRTYPE
                    if info.is_dir()
                    else tarfile.REGTYPE
                )
                _vet(as_tar, archive)
                if info.is_dir():
                    continue
                if info.flag_bits & 0x1:
                    raise InputError(f"{archive}: member {name!r} is encrypted; refusing it")
                _once(PurePosixPath(name), seen, name, archive)
                with zipped.open(info) as member:
                    data = member.read(MAX_MEMBER_BYTES + 1)
                total += len(data)
                if len(data) > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
                    raise InputError(
                        f"{archive}: member {name!r} decompresses to more than its share "
                        f"({MAX_MEMBER_BYTES} bytes a member, {MAX_TOTAL_BYTES} in all); "
                        "refusing it"
                    )
                files[name] = data
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:
        raise InputError(
            f"{archive} is not a readable zip archive (truncated or corrupt?): {e}"
        ) from e
    return files
