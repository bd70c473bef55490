"""`alexnet-kfp serve` and `model-repository`: the exported model served the KServe way, here
(`manifest` and `deploy`, for a cluster, are in deploy.py)."""

import argparse
import dataclasses

from alexnet_kfp.cli.options import (
    command,
    config_flags,
    config_from,
    directories,
    model_path,
    new_dir,
)
from alexnet_kfp.serve.config import ServeConfig


def _cmd_serve(args: argparse.Namespace) -> int:
    """Serve exported models with KServe's Python model server on onnxruntime: the Open
    Inference Protocol v2 over REST and gRPC (also KServe v1 REST), health, readiness, metadata,
    Prometheus metrics at /metrics. Accepts uint8 pixels or encoded image files (PNG, JPEG, ...;
    base64 in JSON). Stops cleanly on SIGTERM or Ctrl-C. Needs the serve extra."""
    config = config_from(ServeConfig, args)
    config = dataclasses.replace(config, model=model_path(config.model))
    from alexnet_kfp.serve.server import serve

    serve(config)
    return 0


def _cmd_model_repository(args: argparse.Namespace) -> int:
    """Write the layout KServe's Triton runtime loads from /mnt/models: alexnet/ and
    alexnet_int8/, each with config.pbtxt, labels.txt and 1/model.onnx. The pipeline's export
    step writes it as its model_repository artifact."""
    from alexnet_kfp.export.model_repository import write_model_repository

    written = write_model_repository(args.onnx, args.out)
    print(f"wrote the Triton model repository {args.out}: " + ", ".join(written))
    return 0


def add(sub) -> None:
    help_text = "serve the model over the Open Inference Protocol (REST + gRPC) with KServe"
    p = command(sub, _cmd_serve, help_text)
    config_flags(p, ServeConfig)

    help_text = "lay out an export directory as a Triton model repository"
    p = command(sub, _cmd_model_repository, help_text)
    directories(p, onnx="the export directory (model.onnx, model.int8.onnx)")
    directories(p, out=new_dir("repository"))
