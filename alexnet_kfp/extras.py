"""Which optional extras each command needs, and the one line every command says when one is not
installed: the extras by name, and how to install them from a clone and from a package index.

What an extra brings is read from the installed package's own metadata (pyproject.toml's
optional-dependencies), so this file names extras, never packages."""

import importlib.metadata
import importlib.util
import re

from alexnet_kfp.errors import InputError

DISTRIBUTION = "alexnet-kfp"
# TensorFlow comes in two flavours, one extra each; either serves. Installed, both are the module
# `tensorflow`, so it is looked for as a module.
TENSORFLOW = "tensorflow-cpu"
_TRAINING = ("train", TENSORFLOW)

# The extras each command needs (pyproject.toml's names); a command not named needs none.
NEEDS: dict[str, tuple[str, ...]] = {
    "train": _TRAINING,
    "evaluate": (*_TRAINING, "evaluate"),
    "export": (*_TRAINING, "export"),
    "verify": (*_TRAINING, "export", "predict"),
    "predict": ("predict",),
    "serve": ("serve",),
    "model-repository": ("export", "predict"),
    "manifest": ("serve",),
    "deploy": ("serve",),
    "compile": ("pipeline",),
    "register": ("tracking",),
    "promote": ("tracking",),
    "submit": ("pipeline",),
    # every step runs in this environment (deploying and tracking, off by default, say so when
    # asked for)
    "run": (*_TRAINING, "evaluate", "export", "predict", "pipeline"),
}

_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[([^\]]*)\])?")


def install_hint(extras: tuple[str, ...] | list[str]) -> str:
    """How to install `extras`, from a clone and from a package index, in one line."""
    joined = ",".join(extras)
    return (
        f"in a clone of alexnet-kfp, pip install '.[{joined}]'; from a package index, pip install "
        f"'{DISTRIBUTION}[{joined}]'"
    )


def _requirements() -> dict[str, list[tuple[str, list[str]]]] | None:
    """{extra: [(distribution, its extras), ...]} from the installed metadata; None when the
    package is not installed (run from a source tree), where nothing can be checked."""
    try:
        lines = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    found: dict[str, list[tuple[str, list[str]]]] = {}
    for line in lines:
        marker, name = _EXTRA_MARKER.search(line), _NAME.match(line)
        if marker and name:
            inner = [e.strip() for e in (name[3] or "").split(",") if e.strip()]
            found.setdefault(marker[1], []).append((name[1], inner))
    return found


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def _missing(extra: str, requirements: dict, seen: set[str]) -> str | None:
    """The first distribution of `extra` that is not installed (an extra of this package's own,
    like `all`, looked into), or None."""
    if extra in seen:
        return None
    seen.add(extra)
    if extra == TENSORFLOW:
        return None if importlib.util.find_spec("tensorflow") else "tensorflow"
    for distribution, inner in requirements.get(extra, []):
        if distribution == DISTRIBUTION:
            for nested in inner:
                missing = _missing(nested, requirements, seen)
                if missing:
                    return missing
        elif not _installed(distribution):
            return distribution
    return None


def check_extras(command: str) -> None:
    """One line naming the extras `command` needs and how to install them, when one is missing."""
    extras = NEEDS.get(command, ())
    if not extras:  # data, sweep: nothing to read at start-up
        return
    requirements = _requirements()
    if requirements is None:
        return
    seen: set[str] = set()
    for extra in extras:
        missing = _missing(extra, requirements, seen)
        if missing:
            raise InputError(
                f"needs the {_listed(extras)} (not installed here: {missing}): "
                f"{install_hint(extras)}"
            )


def missing_module(command: str, module: str | None) -> InputError:
    """The same line for a module found missing while `command` ran (the metadata said nothing:
    a package removed by hand, or a command run from a source tree)."""
    extras = NEEDS.get(command) or ("all",)
    return InputError(
        f"needs the {_listed(extras)} (not installed here: module {module}): {install_hint(extras)}"
    )


def _listed(extras: tuple[str, ...]) -> str:
    names = [f"`{e}`" for e in extras]
    joined = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{joined} extra{'s' if len(names) > 1 else ''}"
