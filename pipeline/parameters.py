"""Pipeline parameters given as `key=value` on the command line, typed by the pipeline's own
declaration (the pipeline object's inputs for `run`, a compiled spec's for `submit --pipeline`),
so a bad name or value fails before any run starts."""

import json
from pathlib import Path

import yaml

from alexnet_kfp.errors import InputError

_PARSERS = {
    "STRING": str,
    "NUMBER_INTEGER": int,
    "NUMBER_DOUBLE": float,
    "BOOLEAN": lambda v: {"true": True, "false": False}[v.lower()],
    "STRUCT": json.loads,
    "LIST": json.loads,
}


# kfp's own names for the pipeline object's input types, in the compiled spec's terms.
_SPEC_TYPES = {"String": "STRING", "Integer": "NUMBER_INTEGER", "Float": "NUMBER_DOUBLE", "Boolean": "BOOLEAN",
               "Dict": "STRUCT", "List": "LIST"}


def pipeline_parameters(pipeline) -> dict[str, str]:
    """{name: KFP parameter type} of a pipeline object's inputs."""
    return {name: _SPEC_TYPES[spec.type] for name, spec in pipeline.component_spec.inputs.items()}


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
