"""A registered model as `predict --model models:/...` and `serve --model` fetch it: from the
tracking server MLFLOW_TRACKING_URI names and no other, checked against the version's recorded
sha256 each time it is used, nothing left behind by a failed lookup, and a registry's answers
checked like any client's input (a version that is a path, an answer that trickles).

Two real `mlflow server`s hold different models under the same name and version; the hostile
registries are real HTTP servers on 127.0.0.1."""

import json
import os
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import onnx
import pytest
from PIL import Image

from alexnet_kfp.errors import InputError
from alexnet_kfp.files import file_digest
from alexnet_kfp.tracking import registered_model
from alexnet_kfp.tracking.registered_model import cache_folder, local_model, server_key
from alexnet_kfp.tracking.registry import register

from .cli import run_cli
from .mlflow_server import MlflowServer

pytestmark = pytest.mark.integration

NAME = "alexnet-cifar10"


def _variant(exported: Path, folder: Path, label: str) -> Path:
    """A copy of the export directory whose float32 model differs by a metadata entry: another
    model, byte for byte, that still runs."""
    shutil.copytree(exported, folder)
    model = onnx.load(str(folder / "model.onnx"))
    entry = model.metadata_props.add()
    entry.key, entry.value = "variant", label
    onnx.save(model, str(folder / "model.onnx"))
    return folder


@pytest.fixture(scope="module")
def servers(exported, tmp_path_factory):
    """Two MLflow servers, each with version 1 of NAME (alias candidate): different models."""
    root = tmp_path_factory.mktemp("registries")
    started = [MlflowServer(root / name).start() for name in ("a", "b")]
    digests = []
    with pytest.MonkeyPatch.context() as patch:
        for server, label in zip(started, ("a", "b"), strict=True):
            onnx_dir = _variant(exported, root / f"model-{label}", label)
            digest = file_digest(onnx_dir / "model.onnx")
            patch.setenv("MLFLOW_TRACKING_URI", server.uri)
            registered = register(onnx_dir, NAME, "candidate", {"onnx_sha256": digest})
            assert registered and registered.version == 1
            digests.append(digest)
    assert digests[0] != digests[1]
    yield list(zip(started, digests, strict=True))
    for server in started:
        server.stop()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ALEXNET_KFP_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_each_server_answers_with_its_own_model(servers, cache, monkeypatch):
    folders = []
    for server, digest in servers:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
        for uri in (f"models:/{NAME}/1", f"models:/{NAME}@candidate"):
            folder = local_model(uri)
            assert file_digest(folder / "model.onnx") == digest
        folders.append(folder)
    assert folders[0] != folders[1]
    # the same server written another way is the same cache
    server, _ = servers[0]
    assert server_key(server.uri + "/") == server_key(server.uri.upper().replace("HTTP", "http"))


def test_predict_answers_with_the_model_of_the_server_it_is_given(servers, cache, tmp_path):
    photo = tmp_path / "photo.png"
    Image.new("RGB", (40, 40), (30, 120, 200)).save(photo)
    seen = []
    for server, digest in servers:
        env = {"MLFLOW_TRACKING_URI": server.uri, "ALEXNET_KFP_CACHE": str(cache)}
        result = run_cli(
            "predict", photo, "--model", f"models:/{NAME}/1", "--json", env={**os.environ, **env}
        )
        assert result.returncode == 0, result.stderr
        folder = Path(result.stderr.split(" is ", 1)[1].split()[0])
        assert file_digest(folder / "model.onnx") == digest
        seen.append(folder)
    assert seen[0] != seen[1]


def test_a_cached_copy_that_is_not_the_registered_model_is_fetched_again(
    servers, cache, monkeypatch
):
    server, digest = servers[0]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
    folder = local_model(f"models:/{NAME}/1")
    (folder / "model.onnx").write_bytes(b"another model")  # a copy gone bad, or planted
    assert local_model(f"models:/{NAME}/1") == folder
    assert file_digest(folder / "model.onnx") == digest


def test_a_failed_lookup_leaves_nothing_behind(servers, cache, monkeypatch):
    server, _ = servers[0]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
    for uri in ("models:/no-such-model/1", f"models:/{NAME}/7", f"models:/{NAME}@production"):
        with pytest.raises(InputError, match=f"--model {uri}: "):
            local_model(uri)
    assert not cache.exists() or not any(cache.rglob("*"))


def test_a_version_registered_without_its_checksum_is_refused(servers, cache, monkeypatch):
    server, _ = servers[1]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
    from mlflow import MlflowClient

    MlflowClient(server.uri).delete_model_version_tag(NAME, "1", "onnx_sha256")
    try:
        with pytest.raises(InputError, match="has no onnx_sha256 tag"):
            local_model(f"models:/{NAME}/1")
    finally:
        MlflowClient(server.uri).set_model_version_tag(NAME, "1", "onnx_sha256", servers[1][1])
    assert not cache.exists() or not any(cache.rglob("*"))


class _Registry(BaseHTTPRequestHandler):
    """MLflow's REST API as a hostile registry answers it: `answer` (a model version's JSON) for
    every lookup, sent whole or one byte every `pause` seconds."""

    answer: dict = {}
    pause = 0.0

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = json.dumps({"model_version": self.answer}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for start in range(0, len(body), 1 if self.pause else len(body)):
                self.wfile.write(body[start : start + (1 if self.pause else len(body))])
                self.wfile.flush()
                time.sleep(self.pause)
        except OSError:  # the client gave up
            pass


def _hostile(answer: dict, pause: float = 0.0) -> ThreadingHTTPServer:
    handler = type("Registry", (_Registry,), {"answer": answer, "pause": pause})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize("version", ["1/../../x", "../1", "²", "1 ", "0", "9" * 30])
def test_a_version_that_is_not_a_whole_number_never_becomes_a_path(version, cache, monkeypatch):
    registry = _hostile({"name": NAME, "version": version, "tags": []})
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{registry.server_address[1]}")
    try:
        with pytest.raises(InputError, match=f"models:/{NAME}@candidate: .*version"):
            local_model(f"models:/{NAME}@candidate")
    finally:
        registry.shutdown()
    assert not cache.exists() or not any(cache.rglob("*"))
    assert not (cache.parent / "x").exists()


def test_a_registry_that_trickles_its_answer_is_given_up_as_a_whole(cache, monkeypatch):
    # one byte a second: every read is quick, the answer never ends; the deadline is the whole's
    registry = _hostile({"name": NAME, "version": "1", "tags": []}, pause=1.0)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{registry.server_address[1]}")
    monkeypatch.setattr(registered_model, "LOOKUP_DEADLINE_S", 4.0)
    started = time.monotonic()
    try:
        with pytest.raises(InputError, match="the registry's answer took more than 4 s"):
            local_model(f"models:/{NAME}@candidate")
    finally:
        registry.shutdown()
    assert time.monotonic() - started < 10
    assert not cache.exists() or not any(cache.rglob("*"))


def test_the_cache_is_keyed_by_server_name_and_version(cache):
    a = cache_folder(server_key("http://Example.org:80/mlflow/"), NAME, 1)
    assert a == cache_folder(server_key("http://example.org/mlflow"), NAME, 1)
    assert a != cache_folder(server_key("https://example.org/mlflow"), NAME, 1)
    assert a != cache_folder(server_key("http://example.org:5000/mlflow"), NAME, 1)
    assert a.parent.parent.parent == cache / "registered-models"
