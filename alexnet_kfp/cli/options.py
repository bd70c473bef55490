"""Command-line building blocks that every command uses, each written once: a subcommand described
by its handler's docstring, options typed by their default, and the required directories."""

import argparse
import inspect
from collections.abc import Callable

DATASET_DIR = "Dataset directory from `alexnet-kfp data`"
MODEL_DIR = "Model directory from `alexnet-kfp train`"

Handler = Callable[[argparse.Namespace], int]


class _KeepEpilog(argparse.HelpFormatter):
    """Wraps the description and options as usual; prints the epilog (a list) line for line."""

    def _fill_text(self, text, width, indent):
        if "\n" in text:
            return "".join(indent + line + "\n" for line in text.splitlines())
        return super()._fill_text(text, width, indent)


def command(
    sub, handler: Handler, help_text: str, epilog: str | None = None, **values: object
) -> argparse.ArgumentParser:
    """The subcommand that `handler` (`_cmd_NAME`) runs; its --help shows the handler's docstring,
    with `values` filled in where it names them in braces, and `epilog` (kept as written) last."""
    name = handler.__name__.removeprefix("_cmd_").replace("_", "-")
    description = (inspect.getdoc(handler) or "").format(**values)
    parser = sub.add_parser(
        name,
        help=help_text,
        description=description,
        epilog=epilog,
        formatter_class=_KeepEpilog if epilog else argparse.HelpFormatter,
    )
    parser.set_defaults(func=handler)
    return parser


def option(
    parser: argparse._ActionsContainer, flag: str, default: object, help_text: str, **settings
):
    """An option of its default's type, whose help ends with that default."""
    parser.add_argument(
        flag,
        type=type(default),
        default=default,
        help=f"{help_text} (default: %(default)s)",
        **settings,
    )


def new_dir(what: str) -> str:
    """The help of an output directory option."""
    return f"new (or empty) directory for the {what}"


def directories(parser: argparse.ArgumentParser, **helps: str) -> None:
    """Required DIR options, in order: directories(p, data=DATASET_DIR, out=new_dir("Model"))."""
    for name, help_text in helps.items():
        parser.add_argument(f"--{name}", required=True, metavar="DIR", help=help_text)
