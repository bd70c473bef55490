"""Read the files of an untrusted tar(.gz) into memory without extracting anything to disk.

Every member is vetted before anything is read: absolute paths, `..` components, links, devices
and oversized members are refused with an error that names the member. Because nothing is
written, nothing can land outside a target directory; this is stricter than tarfile's `data` filter.
"""

import gzip
import lzma
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Callable

from alexnet_kfp.components.errors import InputError

MAX_MEMBER_BYTES = 256 * 2**20  # a CIFAR-10 batch is 31 MB; nothing legitimate comes near this
MAX_TOTAL_BYTES = 1 * 2**30


def _vet(member: tarfile.TarInfo, archive: Path) -> None:
    name = member.name
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or name.startswith("\\") or ":" in (path.parts[0] if path.parts else ""):
        raise InputError(f"{archive}: member {name!r} points outside the archive (absolute path or '..'); refusing it")
    if member.issym() or member.islnk():
        raise InputError(f"{archive}: member {name!r} is a link to {member.linkname!r}; CIFAR archives hold none, refusing it")
    if not (member.isfile() or member.isdir()):
        raise InputError(f"{archive}: member {name!r} is a device, fifo or other special file; refusing it")
    if member.size > MAX_MEMBER_BYTES:
        raise InputError(f"{archive}: member {name!r} claims {member.size} bytes (> {MAX_MEMBER_BYTES}); refusing it")


def read_tar_members(archive: Path, wanted: Callable[[str], bool]) -> dict[str, bytes]:
    """Return {member name: bytes} for the regular files `wanted(name)` selects, after vetting all members."""
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            for member in tar:
                _vet(member, archive)
                total += member.size
                if total > MAX_TOTAL_BYTES:
                    raise InputError(f"{archive}: members add up to more than {MAX_TOTAL_BYTES} bytes; refusing it")
                if member.isfile() and wanted(member.name):
                    data = tar.extractfile(member).read()
                    if len(data) != member.size:
                        raise EOFError(f"member {member.name!r} is cut short")
                    files[member.name] = data
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError) as e:
        raise InputError(f"{archive} is not a readable tar archive (truncated or corrupt?): {e}; download it again") from e
    return files
