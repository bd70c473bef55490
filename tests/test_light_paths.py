"""Light paths stay light, and submit fails cleanly: compile and submit import no TensorFlow."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .cli import run_cli_without_tensorflow
from .real_data import REPO

pytestmark = pytest.mark.integration


def _cli_without_tensorflow(*args: str, env: dict | None = None, cwd=REPO):
    return run_cli_without_tensorflow(*args, env=env, cwd=cwd)


def test_compile_imports_no_tensorflow(tmp_path):
    result = _cli_without_tensorflow("compile", "--output", str(tmp_path / "p.yaml"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p.yaml").read_bytes() == (REPO / "pipeline.yaml").read_bytes()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_submit_to_a_closed_port_fails_cleanly():
    result = _cli_without_tensorflow(
        "submit", "--host", f"http://127.0.0.1:{_closed_port()}", "epochs=3"
    )
    assert result.returncode == 2, result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("alexnet-kfp submit: error: cannot reach Kubeflow")
    )
    assert "Traceback" not in result.stderr


def test_submit_sends_the_installed_pipeline_from_any_directory(tmp_path):
    # No pipeline.yaml here: submit compiles the one the package carries and gets as far as the
    # network.
    result = _cli_without_tensorflow(
        "submit", "--host", f"http://127.0.0.1:{_closed_port()}", "epochs=3", cwd=tmp_path
    )
    assert (
        result.returncode == 2 and "cannot reach Kubeflow" in result.stderr.strip().splitlines()[-1]
    ), result.stderr
    mine = _cli_without_tensorflow(
        "submit", "--host", "http://127.0.0.1:9", "--pipeline", "nope.yaml", cwd=tmp_path
    )
    assert mine.returncode == 2 and "--pipeline nope.yaml: no such file" in mine.stderr


def test_submit_refuses_unknown_or_mistyped_parameters():
    unknown = _cli_without_tensorflow("submit", "--host", "http://127.0.0.1:9", "epoch=3")
    assert unknown.returncode == 2 and "unknown pipeline parameter 'epoch'" in unknown.stderr
    mistyped = _cli_without_tensorflow("submit", "--host", "http://127.0.0.1:9", "epochs=many")
    assert (
        mistyped.returncode == 2 and "epochs='many': not a valid number_integer" in mistyped.stderr
    )


class _Refusing(BaseHTTPRequestHandler):
    """Answers every GET and POST with `status` and a JSON error, after `record()`."""

    status, error = 401, "unauthorized"

    def log_message(self, *args):
        pass

    def record(self) -> None:
        raise NotImplementedError

    def _refuse(self):
        self.record()
        body = json.dumps({"error": self.error}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _refuse


class _Unauthorized(_Refusing):
    seen_tokens: list = []

    def record(self) -> None:
        self.seen_tokens.append(self.headers.get("Authorization"))


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
    result = _cli_without_tensorflow(
        "submit",
        "--host",
        unauthorized_server,
        "--namespace",
        "team-a",
        "--token-env",
        "MY_KFP_TOKEN",
        env=env,
    )
    assert result.returncode == 2, result.stderr
    assert "refused the request (HTTP 401" in result.stderr
    assert "s3cr3t" not in result.stderr + result.stdout
    assert "Bearer s3cr3t-token-value" in _Unauthorized.seen_tokens


def test_submit_without_a_host_names_the_option(monkeypatch):
    import os

    env = {k: v for k, v in os.environ.items() if k != "KF_PIPELINES_ENDPOINT"}
    result = _cli_without_tensorflow("submit", env=env)
    assert (
        result.returncode == 2
        and "--host" in result.stderr
        and "KF_PIPELINES_ENDPOINT" in result.stderr
    )


def _jwt(claims: dict) -> str:
    import base64

    def encode(part: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")

    return f"{encode({'alg': 'RS256'})}.{encode(claims)}.signature"


def _no_endpoint_env(tmp_path, **extra) -> dict:
    import os

    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "KF_PIPELINES_ENDPOINT",
            "KUBERNETES_SERVICE_HOST",
            "KF_PIPELINES_SA_TOKEN_PATH",
            "KUBECONFIG",
        )
    }
    return {**env, "HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "no-kubeconfig"), **extra}


def test_submit_in_a_notebook_pod_uses_the_in_cluster_service_and_the_pod_token(tmp_path):
    token = tmp_path / "token"
    token.write_text(_jwt({"kubernetes.io": {"namespace": "team-notebook"}}))
    env = _no_endpoint_env(
        tmp_path, KUBERNETES_SERVICE_HOST="10.0.0.1", KF_PIPELINES_SA_TOKEN_PATH=str(token)
    )
    result = _cli_without_tensorflow("submit", env=env)
    # No cluster here: the in-cluster service name does not resolve, and the error says what was
    # tried.
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert (
        "cannot reach Kubeflow Pipelines at http://ml-pipeline.kubeflow.svc.cluster.local:8888"
        in last
    )
    assert f"in-cluster, token {token}" in last


def test_submit_sends_the_pod_token_and_its_namespace(tmp_path, unauthorized_server):
    _Unauthorized.seen_tokens.clear()
    token = tmp_path / "token"
    jwt = _jwt({"kubernetes.io": {"namespace": "team-notebook"}})
    token.write_text(jwt)
    env = _no_endpoint_env(
        tmp_path,
        KUBERNETES_SERVICE_HOST="10.0.0.1",
        KF_PIPELINES_SA_TOKEN_PATH=str(token),
        KF_PIPELINES_ENDPOINT=unauthorized_server,
    )
    result = _cli_without_tensorflow("submit", env=env)
    assert result.returncode == 2 and "access to namespace 'team-notebook'" in result.stderr, (
        result.stderr
    )
    assert f"Bearer {jwt}" in _Unauthorized.seen_tokens
    assert jwt not in result.stderr + result.stdout


def test_submit_without_any_endpoint_says_what_it_tried(tmp_path):
    result = _cli_without_tensorflow("submit", env=_no_endpoint_env(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    for tried in (
        "--host",
        "KF_PIPELINES_ENDPOINT",
        "in-cluster",
        "KUBERNETES_SERVICE_HOST",
        "kubeconfig",
    ):
        assert tried in lines[0]


class _KubeProxy(_Refusing):
    """A Kubernetes API server whose service proxy refuses us: records what reached it."""

    status, error = 403, "forbidden"
    seen: list = []

    def record(self) -> None:
        self.seen.append((self.command, self.path, self.headers.get("Authorization")))


def test_submit_with_a_kubeconfig_goes_through_the_api_server_proxy(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KubeProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "current-context": "lab",
                    "clusters": [
                        {
                            "name": "lab",
                            "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"},
                        }
                    ],
                    "users": [{"name": "me", "user": {"token": "kube-token"}}],
                    "contexts": [
                        {
                            "name": "lab",
                            "context": {"cluster": "lab", "user": "me", "namespace": "team-k"},
                        }
                    ],
                }
            )
        )
        result = _cli_without_tensorflow(
            "submit", env=_no_endpoint_env(tmp_path, KUBECONFIG=str(kubeconfig))
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 2 and "access to namespace 'team-k'" in result.stderr, result.stderr
    proxy = "/api/v1/namespaces/kubeflow/services/ml-pipeline:http/proxy/apis/v2beta1/"
    assert all(
        path.startswith(proxy) and auth == "Bearer kube-token" for _, path, auth in _KubeProxy.seen
    ), _KubeProxy.seen
    assert any("namespace=team-k" in path for _, path, _ in _KubeProxy.seen)
