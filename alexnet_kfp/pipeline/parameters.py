"""Pipeline parameters given as `key=value` on the command line, typed by the pipeline's own
declaration (read from the compiled spec), so a bad name or value fails before any run starts."""

import json
from pathlib import Path

import yaml

from alexnet_kfp.components.errors import InputError

_PARSERS = {
    "STRING": str,
    "NUMBER_INTEGER": int,
    "NUMBER_DOUBLE": float,
    "BOOLEAN": lambda v: {"true": True, "false": False}[v.lower()],
    "STRUCT": json.loads,
    "LIST": json.loads,
}


def declared_parameters(pipeline_yaml: Path) -> dict[str, str]:
    """{name: KFP parameter type} of the compiled pipeline's inputs."""
    spec = next(yaml.safe_load_all(pipeline_yaml.read_text()))  # the second document is the platform config
    inputs = spec["root"]["inputDefinitions"]["parameters"]
    return {name: p["parameterType"] for name, p in inputs.items()}


def parse_parameters(pairs: list[str], declared: dict[str, str]) -> dict:
    values = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise InputError(f"parameter {pair!r} is not key=value")
        if key not in declared:
            raise InputError(f"unknown pipeline parameter {key!r}; known: {', '.join(sorted(declared))}")
        try:
            values[key] = _PARSERS[declared[key]](raw)
        except (ValueError, KeyError) as e:
            raise InputError(f"parameter {key}={raw!r}: not a valid {declared[key].lower()} ({e})") from None
    return values
