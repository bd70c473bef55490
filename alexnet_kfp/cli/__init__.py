"""`alexnet-kfp`: the command-line face of the steps, one module per command group with each
command's arguments beside its handler. Each subcommand calls the same function that the Kubeflow
component calls. Heavy frameworks are imported inside the handler that needs them, so `--help`
and the light subcommands stay fast. Exit codes: see exits.py.
"""

import argparse
import os
import sys

from alexnet_kfp import __version__
from alexnet_kfp.cli import data, deploy, evaluate, onnx, pipeline, registry, serve, train
from alexnet_kfp.cli.exits import EXIT_BAD_INPUT, EXIT_CLOSED_PIPE
from alexnet_kfp.errors import InputError
from alexnet_kfp.extras import check_extras, missing_module
from alexnet_kfp.process import setup, signal_of


class _OneLineParser(argparse.ArgumentParser):
    """Bad flags give one line (`alexnet-kfp train: error: ...`), exit 2, like every other bad
    input; `--help` shows the usage."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # `--epoch 3` must not silently mean `--epochs 3`
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="alexnet-kfp",
        description="AlexNet on CIFAR-10 as a Kubeflow pipeline: each step as a command.",
    )
    parser.add_argument("--version", action="version", version=f"alexnet-kfp {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks instead of one-line errors"
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_OneLineParser
    )
    for group in (data, train, evaluate, onnx, serve, deploy, pipeline, registry):
        group.add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup()
    try:
        check_extras(args.command)  # a light install: one line naming the extras, not a traceback
        try:
            code = args.func(args)
        except ModuleNotFoundError as e:
            raise missing_module(args.command, e.name) from e
        sys.stdout.flush()  # output still buffered meets a closed pipe here, not at exit
        return code
    except InputError as e:
        if args.debug:
            raise
        print(f"alexnet-kfp {args.command}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # stdout's reader is gone: say nothing more, and keep Python's own exit from flushing it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLOSED_PIPE
    except KeyboardInterrupt as e:
        # Ctrl-C, or SIGTERM (process.Terminated): staging is already removed
        left = getattr(e, "left", "no partial output was left")
        print(f"alexnet-kfp {args.command}: interrupted ({signal_of(e)}); {left}", file=sys.stderr)
        return getattr(e, "exit_code", 130)
    except Exception as e:
        if args.debug:
            raise
        print(
            f"alexnet-kfp {args.command}: failed: {type(e).__name__}: {e} (rerun with --debug for "
            "the traceback)",
            file=sys.stderr,
        )
        return 1
