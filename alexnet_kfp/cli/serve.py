"""`alexnet-kfp serve`, `model-repository` and `manifest`: the exported model served the KServe
way."""

import argparse
import ipaddress
import socket
import sys

from alexnet_kfp.cli.options import command, directories, new_dir, option
from alexnet_kfp.deploy.manifests import DEFAULT_NAME
from alexnet_kfp.errors import InputError


def _cmd_serve(args: argparse.Namespace) -> int:
    """Serve exported models with KServe's Python model server on onnxruntime: the Open
    Inference Protocol v2 over REST and gRPC (also KServe v1 REST), health, readiness, metadata,
    Prometheus metrics at /metrics. Accepts uint8 pixels or encoded image files (PNG, JPEG, ...;
    base64 in JSON). Stops cleanly on SIGTERM or Ctrl-C. Needs the serve extra."""
    from alexnet_kfp.export.model_repository import models_in

    for flag, port in (("--http-port", args.http_port), ("--grpc-port", args.grpc_port)):
        if not 1 <= port <= 65535:
            raise InputError(f"{flag} must be a TCP port from 1 to 65535, got {port}")
    if args.http_port == args.grpc_port:
        raise InputError(f"--http-port and --grpc-port must differ, both are {args.http_port}")
    if args.max_request_bytes < 1:
        raise InputError(f"--max-request-bytes must be positive, got {args.max_request_bytes}")
    if args.threads is not None and args.threads < 1:
        raise InputError(f"--threads must be at least 1, got {args.threads}")
    models_in(args.model)  # a bad path is one line before KServe is imported
    address = _check_address(args.address)
    for flag, port in (("--http-port", args.http_port), ("--grpc-port", args.grpc_port)):
        _check_free(flag, port, address)
    from alexnet_kfp.serve.server import serve

    serve(args.model, args.http_port, args.grpc_port, args.max_request_bytes, args.threads, address)
    return 0


def _check_address(address: str) -> str:
    """An IP address of this host, as written ("" for every address), or one line."""
    if address == "":
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


def _cmd_model_repository(args: argparse.Namespace) -> int:
    """Write the layout KServe's Triton runtime loads from /mnt/models: alexnet/ and
    alexnet_int8/, each with config.pbtxt, labels.txt and 1/model.onnx. The pipeline's export
    step writes it as its model_repository artifact."""
    from alexnet_kfp.export.model_repository import write_model_repository

    written = write_model_repository(args.onnx, args.out)
    print(f"wrote the Triton model repository {args.out}: " + ", ".join(written))
    return 0


def _cmd_manifest(args: argparse.Namespace) -> int:
    """Print an InferenceService (YAML) serving the model repository at --storage-uri: by
    default with KServe's Triton runtime (modelFormat onnx, protocol v2); with --custom, the
    project image running `alexnet-kfp serve`. Apply it with kubectl."""
    import yaml

    from alexnet_kfp.deploy.manifests import custom_service, triton_service

    if args.custom:
        manifest = custom_service(args.storage_uri, args.image, args.name, args.namespace)
    else:
        manifest = triton_service(args.storage_uri, args.name, args.namespace)
    sys.stdout.write(yaml.safe_dump(manifest, sort_keys=False))
    return 0


def add(sub) -> None:
    from alexnet_kfp.serve.limits import MAX_REQUEST_BYTES
    from alexnet_kfp.serve.server import DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT

    help_text = "serve the model over the Open Inference Protocol (REST + gRPC) with KServe"
    p = command(sub, _cmd_serve, help_text)
    model = "model.onnx, the export directory (both models) or a Triton model repository"
    p.add_argument("--model", required=True, metavar="PATH", help=model)
    option(p, "--http-port", DEFAULT_HTTP_PORT, "REST port", metavar="PORT")
    option(p, "--grpc-port", DEFAULT_GRPC_PORT, "gRPC port", metavar="PORT")
    limit = "larger requests get HTTP 413 / gRPC RESOURCE_EXHAUSTED"
    option(p, "--max-request-bytes", MAX_REQUEST_BYTES, limit, metavar="N")
    threads = "onnxruntime threads per request (default: one per core; 1 serves more under load)"
    p.add_argument("--threads", type=int, metavar="N", help=threads)
    where = "listen on this IP address only, e.g. 127.0.0.1 for this machine alone (default: every "
    where += "address, as KServe listens in a pod)"
    p.add_argument("--address", default="", metavar="IP", help=where)

    help_text = "lay out an export directory as a Triton model repository"
    p = command(sub, _cmd_model_repository, help_text)
    directories(p, onnx="the export directory (model.onnx, model.int8.onnx)")
    directories(p, out=new_dir("repository"))

    p = command(sub, _cmd_manifest, "print a KServe InferenceService for the model repository")
    where = "where the model repository is: s3://, gs://, pvc://, https://, ... (minio:// is s3://)"
    p.add_argument("--storage-uri", required=True, metavar="URI", help=where)
    option(p, "--name", DEFAULT_NAME, "InferenceService name")
    p.add_argument("--namespace", help="namespace (default: kubectl's)")
    custom = "a custom predictor with the project image instead of Triton"
    p.add_argument("--custom", action="store_true", help=custom)
    p.add_argument("--image", metavar="IMAGE", help="the project image, for --custom")
