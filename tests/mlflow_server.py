"""A real MLflow tracking server for the tracking tests: `mlflow server` with a SQLite store and a
local artifacts destination in a folder of the test's, on a free port of 127.0.0.1, stopped by its
PID (and its workers' process group) at the end."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from .started import answers, wait_until_ready

DOCS_PORT = 5000  # the port docs/tracking.md's examples name


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MlflowServer:
    """`mlflow server` on 127.0.0.1:`port` keeping its runs in `folder` (start it again on the
    same folder and it serves the same runs). Its artifacts are proxied to a folder of its own;
    with `artifact_root` (e.g. s3://bucket/path) the clients write them there themselves, as a
    registry KServe can fetch from is set up, with `environment` (the store's endpoint)."""

    def __init__(
        self,
        folder: Path,
        port: int | None = None,
        artifact_root: str | None = None,
        environment: dict[str, str] | None = None,
    ):
        self.folder, self.port = folder, port or free_port()
        self.artifact_root, self.environment = artifact_root, environment or {}
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> "MlflowServer":
        self.folder.mkdir(parents=True, exist_ok=True)
        mlflow = Path(sys.executable).parent / "mlflow"
        command = [
            str(mlflow), "server",
            "--backend-store-uri", f"sqlite:///{self.folder / 'mlflow.db'}",
            *(
                ["--no-serve-artifacts", "--default-artifact-root", self.artifact_root]
                if self.artifact_root
                else ["--artifacts-destination", str(self.folder / "artifacts")]
            ),
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
        ]  # fmt: skip
        log = (self.folder / "server.log").open("ab")
        # its own process group: the server's uvicorn worker goes with it. Without the job
        # runner (three huey consumers polling, about a third of a core, for jobs no test starts)
        environment = {
            **os.environ,
            **self.environment,
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        }
        self.process = subprocess.Popen(
            command, cwd=self.folder, env=environment, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip
        try:
            wait_until_ready(self.healthy, self.process, timeout, self.log_tail, "mlflow server")
        except RuntimeError:
            self.stop()
            raise
        return self

    def healthy(self) -> bool:
        return answers(f"{self.uri}/health")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server's process group (SIGKILL: as a crashed server, at once)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def log_tail(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.is_file() else ""

    def client(self):
        from mlflow import MlflowClient

        return MlflowClient(self.uri)
