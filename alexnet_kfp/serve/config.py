"""The model server's configuration: what `alexnet-kfp serve` (and the custom predictor's
container) is started with, each value checked against what it can mean before anything starts.
Free of kserve, so that the CLI reads it cheaply."""

import os
from dataclasses import dataclass

from alexnet_kfp.config import StepConfig, option
from alexnet_kfp.errors import InputError
from alexnet_kfp.serve.limits import MAX_IMAGES, MAX_REQUEST_BYTES

# gRPC's message limits are signed 32-bit integers: a larger one fails inside grpc at start-up.
GRPC_MAX_MESSAGE_BYTES = 2**31 - 1
# Adaptive batching's defaults, chosen by bench/serve_load.py (docs/benchmarks.md).
DEFAULT_BATCH_SIZE, DEFAULT_BATCH_DELAY_MS, MAX_BATCH_DELAY_MS = 64, 2.0, 1000.0


@dataclass
class ServeConfig(StepConfig):
    """One server: the models it serves, where it listens, what it accepts."""

    model: str = option(
        "",
        "model.onnx, the export directory (both models), a Triton model repository, or a "
        "registered model: models:/NAME@ALIAS or models:/NAME/VERSION (MLflow's registry at "
        "MLFLOW_TRACKING_URI)",
        metavar="PATH_OR_URI",
        required=True,
    )
    http_port: int = option(8080, "REST port", metavar="PORT")
    grpc_port: int = option(8081, "gRPC port", metavar="PORT")
    max_request_bytes: int = option(
        MAX_REQUEST_BYTES,
        "larger requests get HTTP 413 / gRPC RESOURCE_EXHAUSTED (at most "
        f"{GRPC_MAX_MESSAGE_BYTES})",
        metavar="N",
    )
    threads: int | None = option(
        None,
        "onnxruntime threads per call (a batch; a request with --max-batch-size 1), at most one "
        "per core (default: one per core)",
        metavar="N",
    )
    max_batch_size: int = option(
        DEFAULT_BATCH_SIZE,
        "images of concurrent requests gathered into one onnxruntime call, per model (1: no "
        "batching, each request alone)",
        metavar="N",
    )
    max_batch_delay_ms: float = option(
        DEFAULT_BATCH_DELAY_MS,
        "the longest a queued request waits for requests still being decoded to join its batch "
        "(a lone request on an idle server runs at once)",
        metavar="MS",
    )
    address: str = option(
        "",
        "listen on this IP address only, e.g. 127.0.0.1 for this machine alone (default: every "
        "address, as KServe listens in a pod)",
        metavar="IP",
    )

    def check(self) -> "ServeConfig":
        # named as the flags: the server is started by its command line, in a pod too
        for flag, port in (("--http-port", self.http_port), ("--grpc-port", self.grpc_port)):
            if not 1 <= port <= 65535:
                raise InputError(f"{flag} must be a TCP port from 1 to 65535, got {port}")
        if self.http_port == self.grpc_port:
            raise InputError(f"--http-port and --grpc-port must differ, both are {self.http_port}")
        if not 1 <= self.max_request_bytes <= GRPC_MAX_MESSAGE_BYTES:
            raise InputError(
                f"--max-request-bytes must lie between 1 and {GRPC_MAX_MESSAGE_BYTES} (gRPC's "
                f"largest message), got {self.max_request_bytes}"
            )
        cores = os.cpu_count() or 1
        if self.threads is not None and not 1 <= self.threads <= cores:
            raise InputError(
                f"--threads must lie between 1 and {cores} (this machine's cores: more threads "
                f"per request only compete for them), got {self.threads}"
            )
        if not 1 <= self.max_batch_size <= MAX_IMAGES:
            raise InputError(
                f"--max-batch-size must lie between 1 (no batching) and {MAX_IMAGES} (a request's "
                f"most images), got {self.max_batch_size}"
            )
        if not 0 <= self.max_batch_delay_ms <= MAX_BATCH_DELAY_MS:
            raise InputError(
                f"--max-batch-delay-ms must lie between 0 and {MAX_BATCH_DELAY_MS:g}, got "
                f"{self.max_batch_delay_ms:g}"
            )
        if not self.model:
            raise InputError("--model must name a model.onnx, an export directory or a repository")
        return self
