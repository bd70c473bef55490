"""`alexnet-kfp serve`: KServe's own Python model server (REST and gRPC Open Inference Protocol,
health, readiness, model metadata, Prometheus metrics at /metrics) with the exported models.

KServe is configured through its documented surfaces: its own flags (it parses them from sys.argv
when imported; ours, --http-port and the rest, never reach it) and `kserve.ModelServer`'s
arguments. What has no documented hook is in kserve_adapter.py. Request size is bounded on both
protocols (HTTP 413 / gRPC RESOURCE_EXHAUSTED) before any body is parsed.
"""

import gc
import ipaddress
import logging
import socket

from alexnet_kfp.errors import InputError
from alexnet_kfp.export.model_repository import models_in
from alexnet_kfp.extras import install_hint
from alexnet_kfp.serve.config import ServeConfig
from alexnet_kfp.serve.guards import (
    BodyLimit,
    CheckedBinaryRequests,
    NoVersions,
    TrialNotes,
    one_line_validation_error,
)
from alexnet_kfp.serve.kserve_adapter import (
    check_internals,
    fixed_models,
    kserve_flags,
    listen_on,
    our_grpc_servicer,
    rest_app,
)

ALL_ADDRESSES = ""  # KServe's own choice: REST on 0.0.0.0, gRPC on [::] (what a pod needs)

log = logging.getLogger(__name__)


def serve(config: ServeConfig) -> None:
    """Serve every model found at `config.model` (model_repository.models_in) until SIGTERM or
    Ctrl-C. Every value is checked, the address and both ports probed, before KServe is imported.
    `threads`: onnxruntime threads per call (None: one per core). Concurrent requests for a model
    are batched (batcher.py; `max_batch_size` 1: each alone, as before). `address`: the
    one address to listen on (default: every address, as KServe does in a pod)."""
    config.check()
    found = models_in(config.model)
    address = _check_address(config.address)
    for flag, port in (("--http-port", config.http_port), ("--grpc-port", config.grpc_port)):
        _check_free(flag, port, address)
    # KServe's own flag for the gRPC limit: its gRPC server reads the parsed flags
    with kserve_flags(f"--grpc_max_receive_message_length={config.max_request_bytes}"):
        try:
            import kserve
        except ImportError as e:
            raise InputError(
                f"serving needs the `serve` extra ({e}): {install_hint(['serve'])}"
            ) from None

        from fastapi.exceptions import RequestValidationError

        from alexnet_kfp.serve.kserve_model import AlexNetModel
        from alexnet_kfp.serve.plain_pixels import PlainPixelsOverRest
    check_internals()
    if address != ALL_ADDRESSES:
        listen_on(address)
    our_grpc_servicer()
    models, trials = [], {}
    for name, path in found.items():
        served = AlexNetModel(
            name,
            path,
            config.threads,
            max_batch_size=config.max_batch_size,
            max_batch_delay_ms=config.max_batch_delay_ms,
        )
        served.load()
        models.append(served)
        log.info("serving %s from %s (%s)", name, path, served.classifier.precision)
        if served.classifier.trial:
            log.warning("%s is %s", name, served.classifier.trial)
            trials[name] = served.classifier.trial
    app = rest_app()
    app.add_exception_handler(RequestValidationError, one_line_validation_error)
    app.add_middleware(PlainPixelsOverRest, models={m.name: m for m in models})  # innermost
    app.add_middleware(CheckedBinaryRequests)  # it reads the bounded body
    app.add_middleware(BodyLimit, limit=config.max_request_bytes)
    app.add_middleware(NoVersions)
    if trials:  # off the path of every request to a model to ship
        app.add_middleware(TrialNotes, notes=trials)
    server = kserve.ModelServer(
        http_port=config.http_port, grpc_port=config.grpc_port, workers=1, enable_docs_url=False
    )
    fixed_models(server)
    # Everything made so far (KServe, onnxruntime, the models) lives as long as the server: kept
    # out of the garbage collector's full passes, each of which stalled every request by ~0.1 s
    gc.collect()
    gc.freeze()
    server.start(models)


def _check_address(address: str) -> str:
    """An IP address of this host, as written ("" for every address), or one line."""
    if address == ALL_ADDRESSES:
        return address
    try:
        family = (
            socket.AF_INET6 if ":" in ipaddress.ip_address(address).compressed else socket.AF_INET
        )
    except ValueError:
        raise InputError(
            f"--address {address!r}: not an IP address (e.g. 127.0.0.1 or ::1)"
        ) from None
    with socket.socket(family) as probe:
        try:
            probe.bind((address, 0))
        except OSError as e:
            raise InputError(
                f"--address {address}: not an address of this host ({e.strerror})"
            ) from None
    return address


def _check_free(flag: str, port: int, address: str) -> None:
    """One line for a port another program holds (KServe would fail deep in its start-up)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family) as probe:
        try:
            probe.bind((address or "0.0.0.0", port))  # where KServe will listen
        except OSError as e:
            raise InputError(
                f"{flag} {port}: cannot listen there ({e.strerror}); choose another"
            ) from None
