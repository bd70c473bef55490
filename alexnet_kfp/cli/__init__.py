"""`alexnet-kfp`: the command-line face of the steps, one module per command group with each
command's arguments beside its handler. Each subcommand calls the same function that the Kubeflow
component calls. Heavy frameworks are imported inside the handler that needs them, so `--help`
and the light subcommands stay fast. Exit codes: see exits.py.
"""

import argparse
import sys

from alexnet_kfp import __version__
from alexnet_kfp.cli import data, evaluate, onnx, pipeline, train
from alexnet_kfp.cli.exits import EXIT_BAD_INPUT
from alexnet_kfp.errors import InputError
from alexnet_kfp.logs import configure as configure_logging


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alexnet-kfp",
        description="AlexNet on CIFAR-10 as a Kubeflow pipeline: each step as a command.",
    )
    parser.add_argument("--version", action="version", version=f"alexnet-kfp {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (data, train, evaluate, onnx, pipeline):
        group.add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        return args.func(args)
    except InputError as e:
        if args.debug:
            raise
        print(f"alexnet-kfp {args.command}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"alexnet-kfp {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        if args.debug:
            raise
        print(f"alexnet-kfp {args.command}: failed: {type(e).__name__}: {e} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 1
