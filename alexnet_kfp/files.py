"""Files every step shares: its output directory written all at once (built under a temporary
sibling name, renamed into place when complete, removed on any failure, so no partial artifact is
left), and the sha256 each record gives of what it read and wrote."""

import errno
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alexnet_kfp.errors import InputError


@contextmanager
def atomic_output_dir(out_dir: str | Path) -> Iterator[Path]:
    """Yield a staging directory that becomes `out_dir` (new or empty) when the block succeeds.
    Everything about `out_dir` is checked before the work; should another process take the path
    meanwhile, the finished result is kept beside it and the error says where."""
    out_dir = check_output_dir(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    except OSError as e:
        raise InputError(
            f"output directory {out_dir}: cannot write there ({e.strerror or e})"
        ) from None
    try:
        yield staging
        staging.chmod(0o755)  # mkdtemp makes it private; other users (KFP, Docker) must read it
    except InputError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    except Exception as e:
        full = _out_of_space(e, staging)
        shutil.rmtree(staging, ignore_errors=True)
        if full:
            raise InputError(
                f"output directory {out_dir}: no space left on its device ({full}); free some or "
                "choose another place"
            ) from None
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        if out_dir.is_dir() and not out_dir.is_symlink():
            out_dir.rmdir()  # empty (checked above): KFP may create artifact directories beforehand
        staging.rename(out_dir)
    except OSError:  # the path was taken while the step worked: the result is not thrown away
        kept = out_dir.with_name(f"{out_dir.name}.kept-{staging.name.rsplit('-', 1)[-1]}")
        staging.rename(kept)
        raise InputError(
            f"output directory {out_dir} was made by something else while this step worked; the "
            f"finished result is kept in {kept}"
        ) from None


# Free space below which a failed write is taken for a full disk: libraries that write files
# themselves may hide the errno (onnxruntime says INVALID_PROTOBUF "serialization failed").
_NEARLY_FULL = 1 << 20


def _out_of_space(error: BaseException, directory: Path) -> str:
    """Why `error` is a full disk under `directory` (empty: it is not)."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return error.strerror or "no space"
    try:
        free = shutil.disk_usage(directory).free
    except OSError:
        return ""
    return f"{free // 1024} KiB free" if free < _NEARLY_FULL else ""


def check_output_dir(out_dir: str | Path) -> Path:
    """`out_dir` as a step's output directory (new, or an empty directory), or one line: a step
    calls it before its work, and atomic_output_dir again."""
    out_dir = Path(out_dir)
    if out_dir.is_symlink():  # rmdir and rename act on the link, not where it points
        raise InputError(
            f"output directory {out_dir} is a symbolic link (to {os.readlink(out_dir)}); give "
            "the directory itself or a new path"
        )
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(
            f"output directory {out_dir} already exists and is not empty; choose a new one"
        )
    return out_dir


STDOUT = "-"


def output_file(path: str, flag: str) -> Path | None:
    """`path` as a file a command writes: None for "-" (standard output); one line for a path
    that is a link, a directory, a device, a FIFO or a socket, which writing a new file in its
    place would replace rather than write through (as root, `/dev/stdout` itself)."""
    if path == STDOUT:
        return None
    target = Path(path)
    if target.is_symlink():
        raise InputError(
            f"{flag} {path} is a symbolic link (to {os.readlink(target)}); give the file itself, "
            f"a new path, or {STDOUT} for standard output"
        )
    if target.exists() and not target.is_file():
        kind = "a directory" if target.is_dir() else "not a regular file (a device, FIFO or socket)"
        raise InputError(f"{flag} {path} is {kind}; give a file, or {STDOUT} for standard output")
    return target


@contextmanager
def temporary_files_in(directory: Path) -> Iterator[Path]:
    """A scratch folder inside `directory` that this process's temporary files go to meanwhile
    (tempfile's, a library's included): a step's scratch then shares its output's file system, so
    a full disk is found and named there (atomic_output_dir), whichever file filled it."""
    scratch = Path(tempfile.mkdtemp(prefix=".scratch-", dir=directory))
    saved, tempfile.tempdir = tempfile.tempdir, str(scratch)
    try:
        yield scratch
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(scratch, ignore_errors=True)


def write_atomically(path: str | Path, text: str) -> None:
    """`path` holds `text` or, when the disk refuses (full, read-only), what it held before: the
    text goes to a temporary sibling first, renamed over `path` only when complete."""
    path = Path(path)
    staging = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, prefix=f".{path.name}.", suffix=".partial", delete=False
        ) as f:
            staging = Path(f.name)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        staging.chmod(0o644)
        os.replace(staging, path)
    except OSError as e:
        if staging is not None:
            staging.unlink(missing_ok=True)
        kept = "the previous file is intact" if path.exists() else "nothing was written"
        raise InputError(f"{path}: cannot write it ({e.strerror or e}); {kept}") from None


def make_directory(path: Path, named: str, exist_ok: bool = True) -> None:
    """mkdir -p `path`, or one line that names it as `named` (a flag, a role) when refused."""
    try:
        path.mkdir(parents=True, exist_ok=exist_ok)
    except OSError as e:
        raise InputError(f"{named}: cannot write there ({e.strerror or e})") from None


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, algorithm).hexdigest()


def file_name_from(text: str, fallback: str) -> str:
    """A file name made of a name that data carries (a class name from an archive): letters,
    digits, '-', '_' and inner dots kept, anything else (a '/', '..', a NUL) as '_'; `fallback`
    when nothing is left. Such a name never leaves the folder it is joined to."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", text)[:100].strip("._")
    return name or fallback
