"""Hostile and damaged inputs: escaping tar members, links, code-running pickles, corrupt gzip,
missing batches and invalid contents. Each must fail with a clear error and write nothing."""

import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from alexnet_kfp.data.cifar_format import safe_unpickle
from alexnet_kfp.data.prepare import prepare_dataset
from alexnet_kfp.errors import InputError

from .archives import members_of, write_tar_gz

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def members(small_archive) -> dict[str, bytes]:
    return members_of(small_archive)


def _fails(archive: Path, out: Path, message: str) -> str:
    with pytest.raises(InputError, match=message) as err:
        prepare_dataset(out, source=str(archive))
    assert not out.exists() and "\n" not in str(err.value)
    return str(err.value)


@pytest.mark.parametrize(
    "name", ["../escaped.txt", "cifar-10-batches-py/../../escaped.txt", "/tmp/escaped-abs.txt"]
)
def test_member_escaping_the_target_is_refused(members, tmp_path, name):
    work = tmp_path / "work"
    work.mkdir()
    archive = write_tar_gz(work / "evil.tar.gz", {name: b"owned", **members})
    message = _fails(archive, work / "ds", "points outside the archive")
    assert name in message
    assert not (tmp_path / "escaped.txt").exists() and not Path("/tmp/escaped-abs.txt").exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_links_are_refused(members, tmp_path, kind):
    link = tarfile.TarInfo("cifar-10-batches-py/data_batch_9")
    link.type, link.linkname = kind, "/etc/passwd"
    archive = write_tar_gz(tmp_path / "links.tar.gz", members, extra=[link])
    _fails(archive, tmp_path / "ds", "is a link")


@pytest.mark.parametrize(
    "name",
    [
        "cifar-10-batches-py/data_batch_1",
        "./cifar-10-batches-py/data_batch_1",  # the same path written otherwise
        "cifar-10-batches-py//batches.meta",
        "cifar-10-batches-py/test_batch",
        "cifar-10-batches-py/readme.html",  # even a file no step reads
    ],
)
def test_a_file_that_appears_twice_is_refused(members, tmp_path, name):
    # tar keeps both copies and the last one read would win: which one is meant?
    second = tarfile.TarInfo(name)
    second.size = 64
    readme = {"cifar-10-batches-py/readme.html": b"<html></html>"}  # as the real archive has
    archive = write_tar_gz(tmp_path / "twice.tar.gz", members | readme, extra=[second])
    message = _fails(archive, tmp_path / "ds", "appears twice")
    assert repr(name) in message


def test_device_members_are_refused(members, tmp_path):
    device = tarfile.TarInfo("cifar-10-batches-py/null")
    device.type, device.devmajor, device.devminor = tarfile.CHRTYPE, 1, 3
    archive = write_tar_gz(tmp_path / "dev.tar.gz", members, extra=[device])
    _fails(archive, tmp_path / "ds", "device")


class _RunsCode:
    """Unpickling this calls os.system, which would create the marker file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_that_would_run_code_is_refused_and_runs_nothing(members, tmp_path):
    marker = tmp_path / "code-ran"
    evil = pickle.dumps({b"data": _RunsCode(marker), b"labels": [0]}, protocol=2)
    # Prove the payload is live: the plain unpickler really runs it.
    pickle.loads(evil)
    assert marker.exists()
    marker.unlink()
    files = {**members, "cifar-10-batches-py/data_batch_2": evil}
    archive = write_tar_gz(tmp_path / "evil.tar.gz", files)
    message = _fails(archive, tmp_path / "ds", "refusing to load it")
    assert "data_batch_2" in message and "system" in message
    assert not marker.exists()


def test_pickle_with_builtins_eval_is_refused():
    evil = b"cbuiltins\neval\n(S'1+1'\ntR."
    with pytest.raises(InputError, match="builtins.eval"):
        safe_unpickle(evil, "x/data_batch_1")


def test_truncated_gzip(small_archive, tmp_path):
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(small_archive.read_bytes()[: small_archive.stat().st_size // 2])
    _fails(truncated, tmp_path / "ds", "truncated or corrupt")


def test_corrupt_gzip(small_archive, tmp_path):
    data = bytearray(small_archive.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = bytes(4096)
    corrupt = tmp_path / "corrupt.tar.gz"
    corrupt.write_bytes(bytes(data))
    _fails(corrupt, tmp_path / "ds", "truncated or corrupt")


def test_not_an_archive(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"<html>mirror login page</html>")
    _fails(junk, tmp_path / "ds", "not a readable tar archive")


def test_missing_batch_file_is_named(members, tmp_path):
    files = {k: v for k, v in members.items() if not k.endswith("data_batch_3")}
    archive = write_tar_gz(tmp_path / "missing.tar.gz", files)
    _fails(archive, tmp_path / "ds", "missing data_batch_3")


def test_archive_without_cifar_batches(tmp_path):
    archive = write_tar_gz(tmp_path / "other.tar.gz", {"readme.txt": b"hello"})
    _fails(archive, tmp_path / "ds", "holds no CIFAR-10 batches")


def _batch(data, labels) -> bytes:
    return pickle.dumps(
        {b"batch_label": b"x", b"labels": labels, b"data": data, b"filenames": []}, protocol=2
    )


@pytest.mark.parametrize(
    "data, labels, message",
    [
        (np.zeros((1000, 3072), np.uint8), [10] * 1000, "labels must lie in 0..9"),
        (np.zeros((1000, 3072), np.uint8), [0] * 999, "must be 1000 integers"),
        (np.zeros((1000, 1024), np.uint8), [0] * 1000, r"shape \(N, 3072\)"),
        (np.zeros((1000, 3072), np.float32), [0] * 1000, "uint8"),
        (np.zeros((900, 3072), np.uint8), [0] * 900, "batches.meta says 1000"),
    ],
)
def test_invalid_batch_contents_name_the_file(members, tmp_path, data, labels, message):
    files = {**members, "cifar-10-batches-py/data_batch_4": _batch(data, labels)}
    archive = write_tar_gz(tmp_path / "invalid.tar.gz", files)
    assert "data_batch_4" in _fails(archive, tmp_path / "ds", message)
