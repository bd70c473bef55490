"""A real S3-compatible object store for the tests: moto's standalone server on a free port of
127.0.0.1, with a bucket, stopped by its PID. MLflow writes a registered version's files there as
it would to S3, and a manifest's storageUri names them as KServe would fetch them."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from .mlflow_server import free_port
from .started import answers, wait_until_ready

# What the S3 clients (MLflow's, boto3) are told: the endpoint and placeholder credentials.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class S3Server:
    """moto_server on 127.0.0.1:`port`, holding `bucket`."""

    def __init__(self, folder: Path, bucket: str):
        self.folder, self.bucket, self.port = folder, bucket, free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    @property
    def environment(self) -> dict[str, str]:
        """What a client of this store needs in its environment (MLflow's S3 client included)."""
        return {**CREDENTIALS, "MLFLOW_S3_ENDPOINT_URL": self.endpoint}

    def start(self, timeout: float = 60) -> "S3Server":
        self.folder.mkdir(parents=True, exist_ok=True)
        server = Path(sys.executable).parent / "moto_server"
        log = (self.folder / "s3.log").open("ab")
        self.process = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        ready = lambda: answers(f"{self.endpoint}/moto-api/")  # noqa: E731
        try:
            wait_until_ready(ready, self.process, timeout, self._log_tail, "moto_server")
        except RuntimeError:
            self.stop()
            raise
        self.client().create_bucket(Bucket=self.bucket)
        return self

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
        )

    def keys(self, prefix: str) -> list[str]:
        """The keys of the bucket's objects under `prefix`."""
        listed = self.client().list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for item in listed.get("Contents", [])]

    def _log_tail(self) -> str:
        path = self.folder / "s3.log"
        return path.read_text(errors="replace")[-2000:] if path.is_file() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
