"""Light paths stay light, and submit fails cleanly: compile and submit import no TensorFlow."""

import json
import socket
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import threading

import pytest

from .real_data import REPO


def _cli_without_tensorflow(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    script = (
        "import sys\n"
        "from alexnet_kfp.pipeline.cli import main\n"
        f"code = main({list(args)!r})\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'tf2onnx') if m in sys.modules]\n"
        "assert not heavy, f'imported {heavy}'\n"
        "sys.exit(code)\n"
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=REPO,
                          env=env)


def test_compile_imports_no_tensorflow(tmp_path):
    result = _cli_without_tensorflow("compile", "--output", str(tmp_path / "p.yaml"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p.yaml").read_bytes() == (REPO / "pipeline.yaml").read_bytes()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_submit_to_a_closed_port_fails_cleanly():
    result = _cli_without_tensorflow("submit", "--host", f"http://127.0.0.1:{_closed_port()}", "epochs=3")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("alexnet-kfp submit: error: cannot reach Kubeflow")
    assert "Traceback" not in result.stderr


def test_submit_refuses_unknown_or_mistyped_parameters():
    unknown = _cli_without_tensorflow("submit", "--host", "http://127.0.0.1:9", "epoch=3")
    assert unknown.returncode == 2 and "unknown pipeline parameter 'epoch'" in unknown.stderr
    mistyped = _cli_without_tensorflow("submit", "--host", "http://127.0.0.1:9", "epochs=many")
    assert mistyped.returncode == 2 and "epochs='many': not a valid number_integer" in mistyped.stderr


class _Unauthorized(BaseHTTPRequestHandler):
    seen_tokens: list = []

    def log_message(self, *args):
        pass

    def _deny(self):
        self.seen_tokens.append(self.headers.get("Authorization"))
        body = json.dumps({"error": "unauthorized"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _deny


@pytest.fixture
def unauthorized_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Unauthorized)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_submit_with_a_rejected_token_says_so_without_echoing_it(unauthorized_server):
    import os

    env = {**os.environ, "MY_KFP_TOKEN": "s3cr3t-token-value"}
    result = _cli_without_tensorflow("submit", "--host", unauthorized_server, "--namespace", "team-a",
                                     "--token-env", "MY_KFP_TOKEN", env=env)
    assert result.returncode == 2, result.stderr
    assert "refused the request (HTTP 401" in result.stderr
    assert "s3cr3t" not in result.stderr + result.stdout
    assert "Bearer s3cr3t-token-value" in _Unauthorized.seen_tokens


def test_submit_without_a_host_names_the_option(monkeypatch):
    import os

    env = {k: v for k, v in os.environ.items() if k != "KF_PIPELINES_ENDPOINT"}
    result = _cli_without_tensorflow("submit", env=env)
    assert result.returncode == 2 and "--host" in result.stderr and "KF_PIPELINES_ENDPOINT" in result.stderr
