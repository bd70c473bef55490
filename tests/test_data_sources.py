"""Sources: a real HTTP download on loopback (with cut + resume and the cache), file:// URLs,
paths, extracted directories, and checksums."""

import tarfile
from pathlib import Path

import pytest

from alexnet_kfp.data.fetch import Checksum, cache_key
from alexnet_kfp.data.prepare import prepare_dataset
from alexnet_kfp.errors import InputError
from alexnet_kfp.files import file_digest

from .http_server import Behaviour, LoopbackServer

pytestmark = pytest.mark.unit

NAME = "/cifar-10-python.tar.gz"


def _dataset_bytes(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in ("train.npz", "val.npz", "test.npz")}


def _download(server, tmp_path: Path, **settings) -> dict:
    """The Dataset tmp_path/ds made from the server's archive, through the cache in tmp_path."""
    return prepare_dataset(
        tmp_path / "ds", source=server.url(NAME), cache_dir=tmp_path / "cache", **settings
    )


@pytest.fixture(scope="module")
def reference(small_sha256, small_archive, tmp_path_factory) -> dict[str, bytes]:
    """The dataset made from the plain local path: every other source must give the same bytes."""
    out = tmp_path_factory.mktemp("ref") / "ds"
    prepare_dataset(out, source=str(small_archive), sha256=small_sha256)
    return _dataset_bytes(out)


def test_http_download_then_cache_without_network(small_sha256, small_archive, reference, tmp_path):
    behaviour = Behaviour(files={NAME: small_archive.read_bytes()})
    with LoopbackServer(behaviour) as server:
        url = server.url(NAME)
        prepare_dataset(
            tmp_path / "a", source=url, sha256=small_sha256, cache_dir=tmp_path / "cache"
        )
    assert len(behaviour.requests) == 1
    assert _dataset_bytes(tmp_path / "a") == reference
    # The server is gone: the verified cached archive must be used without any network call.
    record = prepare_dataset(
        tmp_path / "b", source=url, sha256=small_sha256, cache_dir=tmp_path / "cache"
    )
    assert _dataset_bytes(tmp_path / "b") == reference
    assert record.source_sha256 == small_sha256
    assert not list((tmp_path / "cache").rglob("*.part"))


def test_download_cut_midway_resumes_with_range(small_sha256, small_archive, reference, tmp_path):
    body = small_archive.read_bytes()
    cut = len(body) // 2
    behaviour = Behaviour(files={NAME: body}, cut_first_response_at=cut)
    with LoopbackServer(behaviour) as server:
        _download(server, tmp_path, sha256=small_sha256, backoff_s=0.01)
    assert [r["range"] for r in behaviour.requests] == [None, f"bytes={cut}-"]
    assert _dataset_bytes(tmp_path / "ds") == reference
    cached = (
        tmp_path
        / "cache"
        / cache_key(server.url(NAME), Checksum("sha256", small_sha256))
        / NAME.lstrip("/")
    )
    assert file_digest(cached) == small_sha256


def test_partial_file_from_an_earlier_run_is_resumed(
    small_sha256, small_archive, reference, tmp_path
):
    body = small_archive.read_bytes()
    behaviour = Behaviour(files={NAME: body})
    with LoopbackServer(behaviour) as server:
        folder = tmp_path / "cache" / cache_key(server.url(NAME), Checksum("sha256", small_sha256))
        folder.mkdir(parents=True)
        (folder / "cifar-10-python.tar.gz.part").write_bytes(body[:1000])
        _download(server, tmp_path, sha256=small_sha256)
    assert [r["range"] for r in behaviour.requests] == ["bytes=1000-"]
    assert _dataset_bytes(tmp_path / "ds") == reference


def test_server_ignoring_range_restarts_cleanly(small_sha256, small_archive, reference, tmp_path):
    body = small_archive.read_bytes()
    behaviour = Behaviour(
        files={NAME: body}, cut_first_response_at=len(body) // 3, honour_range=False
    )
    with LoopbackServer(behaviour) as server:
        _download(server, tmp_path, sha256=small_sha256, backoff_s=0.01)
    assert len(behaviour.requests) == 2
    assert _dataset_bytes(tmp_path / "ds") == reference


def test_http_404_fails_at_once_with_one_clear_line(tmp_path):
    behaviour = Behaviour(files={})
    with LoopbackServer(behaviour) as server:
        with pytest.raises(InputError, match="HTTP 404") as err:
            _download(server, tmp_path)
    assert len(behaviour.requests) == 1 and "\n" not in str(err.value)
    assert not (tmp_path / "ds").exists()


def test_server_errors_are_retried_then_reported(tmp_path):
    behaviour = Behaviour(files={}, status=503)
    with LoopbackServer(behaviour) as server:
        with pytest.raises(InputError, match="failed after 3 attempts: HTTP 503"):
            _download(server, tmp_path, retries=2, backoff_s=0.01)
    assert len(behaviour.requests) == 3


def test_wrong_checksum_on_download_keeps_nothing(small_archive, tmp_path):
    behaviour = Behaviour(files={NAME: small_archive.read_bytes()})
    with LoopbackServer(behaviour) as server:
        with pytest.raises(InputError, match="sha256 mismatch"):
            _download(server, tmp_path, sha256="0" * 64)
    assert not (tmp_path / "ds").exists()
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []
    assert [p.name for p in tmp_path.iterdir()] == ["cache"]  # no staging directory left behind


def test_file_url_path_and_directory_give_the_same_dataset(
    small_sha256, small_archive, reference, tmp_path
):
    prepare_dataset(tmp_path / "url", source=small_archive.as_uri(), sha256=small_sha256)
    assert _dataset_bytes(tmp_path / "url") == reference
    with tarfile.open(small_archive) as tar:
        tar.extractall(tmp_path / "extracted", filter="data")
    for folder in (tmp_path / "extracted", tmp_path / "extracted" / "cifar-10-batches-py"):
        out = tmp_path / f"dir-{folder.name}"
        record = prepare_dataset(out, source=str(folder))
        assert _dataset_bytes(out) == reference
        assert record.source_sha256 is None


def test_md5_checksum_is_accepted_and_checked(small_archive, tmp_path):
    md5 = file_digest(small_archive, "md5")
    record = prepare_dataset(tmp_path / "ok", source=str(small_archive), md5=md5)
    assert record.expected_checksum == {"md5": md5}
    with pytest.raises(InputError, match="md5 mismatch"):
        prepare_dataset(tmp_path / "bad", source=str(small_archive), md5="f" * 32)
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"source": "/no/such/archive.tar.gz"}, "no such file"),
        ({"source": "ftp://example.invalid/x.tar.gz"}, "unsupported scheme"),
        ({"sha256": "abc"}, "64-digit hex"),
        ({"sha256": "0" * 64, "md5": "0" * 32}, "not both"),
        ({"val_fraction": 1.0}, "between 0 and 1"),
        ({"limit_per_class": 1}, "at least 2"),
    ],
)
def test_bad_input_is_one_clear_line(small_archive, tmp_path, kwargs, message):
    kwargs = {"source": str(small_archive), **kwargs}
    with pytest.raises(InputError, match=message) as err:
        prepare_dataset(tmp_path / "ds", **kwargs)
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_non_empty_output_directory_is_refused(small_archive, tmp_path):
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        prepare_dataset(tmp_path / "ds", source=str(small_archive))
    assert (tmp_path / "ds" / "keep.txt").read_text() == "mine"


def test_an_archive_without_a_checksum_is_said_to_be_unverified(small_archive, tmp_path):
    from .cli import run_cli

    said = run_cli("data", "--source", small_archive, "--out", tmp_path / "ds", timeout=120)
    sha256 = file_digest(small_archive)
    assert said.returncode == 0, said.stderr
    assert said.stderr.splitlines()[-1] + "\n" == (
        f"alexnet-kfp data: warning: unverified archive: {small_archive} was not checked (no "
        f"checksum given); its sha256 is {sha256}: give it (--sha256 {sha256}, or the sha256 "
        "parameter) to check the archive\n"
    )
    given = run_cli(
        "data", "--source", small_archive, "--sha256", sha256, "--out", tmp_path / "checked"
    )
    assert given.returncode == 0 and "unverified" not in given.stderr, given.stderr


def test_an_extracted_directory_is_said_to_be_unchecked(small_archive, tmp_path):
    from alexnet_kfp.data.prepare import unverified

    with tarfile.open(small_archive) as archive:
        archive.extractall(tmp_path, filter="data")
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    record = prepare_dataset(tmp_path / "ds", source=str(folder))
    assert unverified(record) == (
        f"unverified archive: {folder} is a directory, which no checksum covers"
    )


@pytest.mark.parametrize("where", ["path", "file URL", "http URL"])
def test_a_file_named_as_the_official_archive_is_held_to_its_md5(small_archive, tmp_path, where):
    # the small archive is not the official one: under the official name, its md5 fails
    named = tmp_path / "cifar-10-python.tar.gz"
    named.write_bytes(small_archive.read_bytes())
    with LoopbackServer(Behaviour(files={NAME: named.read_bytes()})) as server:
        source = {"path": str(named), "file URL": named.as_uri(), "http URL": server.url(NAME)}
        with pytest.raises(InputError) as refused:
            prepare_dataset(tmp_path / "ds", source=source[where], cache_dir=tmp_path / "cache")
    assert "md5 mismatch: expected c58f30108f718f92721af3b95e74349a" in str(refused.value)
    assert str(refused.value).endswith(
        "(cifar-10-python.tar.gz is the official archive's name; for another, give sha256)"
    )
    # a sha256 given says which archive is meant
    record = prepare_dataset(
        tmp_path / "ok", source=str(named), sha256=file_digest(named), cache_dir=tmp_path / "c"
    )
    assert record.expected_checksum == {"sha256": file_digest(named)}
