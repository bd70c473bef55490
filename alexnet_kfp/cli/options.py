"""Command-line building blocks that every command uses, each written once: a subcommand described
by its handler's docstring, one flag per field of a step's configuration, options typed by their
default, and the required directories."""

import argparse
import dataclasses
import inspect
import types
from collections.abc import Callable
from typing import TypeVar

from alexnet_kfp.config import StepConfig
from alexnet_kfp.errors import InputError
from alexnet_kfp.untrusted import integer, number

DATASET_DIR = "Dataset directory from `alexnet-kfp data`"
MODEL_DIR = "Model directory from `alexnet-kfp train`"

Handler = Callable[[argparse.Namespace], int]
C = TypeVar("C", bound=StepConfig)


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


def integer_argument(text: str) -> int:
    """An integer flag's value: digits 0-9 (and a '-'), not int()'s other scripts and spaces."""
    try:
        return integer(text, "")
    except InputError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (digits 0-9)") from None


def number_argument(text: str) -> float:
    """A number flag's value, written in ASCII as Python writes numbers."""
    try:
        return number(text, "")
    except InputError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (digits 0-9)") from None


_ARGUMENT_TYPES = {int: integer_argument, float: number_argument}


def argument_type(kind: type) -> Callable[[str], object]:
    """The flag parser for values of `kind`: int's and float's checked ones, else `kind`."""
    return _ARGUMENT_TYPES.get(kind, kind)


def _flag_type(annotation):
    """The flag parser (argument_type) of `annotation`, `... | None` included."""
    if isinstance(annotation, types.UnionType):
        annotation = next(a for a in annotation.__args__ if a is not type(None))
    return annotation if annotation is bool else argument_type(annotation)


def config_flags(
    parser: argparse._ActionsContainer, config: type[StepConfig], *, skip: tuple = ()
) -> None:
    """One flag per field of the step configuration `config` (a dataclass of config.option
    fields): typed by the field, its help and default shown, booleans as --x/--no-x."""
    for f in dataclasses.fields(config):  # type: ignore[arg-type] # StepConfigs are dataclasses
        if f.name in skip:
            continue
        settings = {k: v for k, v in f.metadata.items() if k not in ("help", "flag")}
        kind = _flag_type(f.type)
        if kind is bool:
            settings["action"] = argparse.BooleanOptionalAction
        else:
            settings["type"] = kind
        shown = "" if f.default in (None, "") else " (default: %(default)s)"
        help_text = f.metadata["help"].replace("%", "%%") + shown  # argparse formats help with %
        flag = f.metadata.get("flag") or f"--{f.name.replace('_', '-')}"
        parser.add_argument(flag, dest=f.name, default=f.default, help=help_text, **settings)


def config_from(config: type[C], args: argparse.Namespace) -> C:
    """The step configuration of the parsed flags (config_flags'), checked."""
    return config.of(vars(args)).check()


def model_path(value: str) -> str:
    """--model as a local path: a registered model's URI (`models:/NAME@ALIAS`,
    `models:/NAME/VERSION`) is downloaded from MLflow's registry, once per version; a path is
    itself."""
    from alexnet_kfp.tracking import is_model_uri

    if not is_model_uri(value):
        return value
    import sys

    from alexnet_kfp.tracking.registered_model import local_model

    folder = local_model(value)
    print(f"alexnet-kfp: {value} is {folder}", file=sys.stderr)
    return str(folder)
