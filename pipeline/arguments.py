"""A run's pipeline parameters: `key=value` pairs (`key=@FILE` reads a list or an object from a
file) typed by the pipeline's own declaration (the pipeline object's inputs for `run`, a compiled
spec's for `submit`), then checked by the steps' own checks (a sweep's trials too), so that a bad
name, type or value (NaN, a fraction of 7, zero epochs) fails before anything is sent or started.
The steps repeat these checks inside the cluster."""

import math
import re
from collections.abc import Callable
from pathlib import Path

from alexnet_kfp.config import StepConfig
from alexnet_kfp.data.config import DataConfig
from alexnet_kfp.errors import InputError
from alexnet_kfp.evaluate.gate import GateConfig
from alexnet_kfp.export import VerifyConfig
from alexnet_kfp.k8s_names import (
    check_namespace,
    check_service_name,
    is_label_value,
    is_qualified_name,
)
from alexnet_kfp.pipeline.parameters import (
    ALL_PARAMETERS,
    is_sweep,
    step_arguments,
    step_values,
)
from alexnet_kfp.pipeline.placement import EFFECTS
from alexnet_kfp.tracking.environment import TRACKING_URI
from alexnet_kfp.tracking.registry import check_alias, check_model_name
from alexnet_kfp.train.config import TrainConfig
from alexnet_kfp.train.halving import Halving, parse_halving
from alexnet_kfp.train.trials import plan_trials
from alexnet_kfp.untrusted import (
    MAX_VALUE_FILE_BYTES,
    integer,
    json_value,
    number,
    read_text,
    yaml_documents,
)

_PARSERS: dict[str, Callable[[str], object]] = {
    "STRING": str,
    "NUMBER_INTEGER": lambda v: integer(v, "a whole number"),
    "NUMBER_DOUBLE": lambda v: number(v, "a number"),
    "BOOLEAN": lambda v: {"true": True, "false": False}[v.lower()],
    "STRUCT": lambda v: json_value(v, "the value"),
    "LIST": lambda v: json_value(v, "the value"),
}

# kfp's own names for the pipeline object's input types, in the compiled spec's terms.
_SPEC_TYPES = {
    "String": "STRING",
    "Integer": "NUMBER_INTEGER",
    "Float": "NUMBER_DOUBLE",
    "Boolean": "BOOLEAN",
    "Dict": "STRUCT",
    "List": "LIST",
}


def pipeline_parameters(pipeline) -> dict[str, tuple[str, object]]:
    """{name: (KFP parameter type, default)} of a pipeline object's inputs."""
    return {
        name: (_SPEC_TYPES[spec.type], spec.default)
        for name, spec in pipeline.component_spec.inputs.items()
    }


def declared_parameters(pipeline_yaml: Path) -> dict[str, tuple[str, object]]:
    """{name: (KFP parameter type, default)} of a compiled pipeline's inputs."""
    inputs = _spec_field(pipeline_yaml, "root", "inputDefinitions", "parameters")
    return {name: (p["parameterType"], p.get("defaultValue")) for name, p in inputs.items()}


def compiled_halving(pipeline_yaml: Path) -> Halving | None:
    """The successive halving a compiled sweep runs (its plan step's constants), if any."""
    tasks = _spec_field(pipeline_yaml, "root", "dag", "tasks")
    constants = tasks.get("plan-op", {}).get("inputs", {}).get("parameters", {})
    try:
        eta, rungs = (
            int(constants.get(name, {}).get("runtimeValue", {}).get("constant", 0))
            for name in ("halving_eta", "halving_rungs")
        )
    except (AttributeError, TypeError, ValueError) as e:
        raise InputError(f"{pipeline_yaml}: not a sweep this version compiled ({e})") from None
    return parse_halving(eta, rungs)


def _spec_field(pipeline_yaml: Path, *keys: str) -> dict:
    """The object at `keys` in a compiled pipeline's spec, or one line."""
    text = read_text(pipeline_yaml, str(pipeline_yaml), MAX_VALUE_FILE_BYTES)
    found = yaml_documents(text, str(pipeline_yaml))[0]  # the second is the platform config
    try:
        for key in keys:
            found = found[key]
    except (KeyError, TypeError, IndexError) as e:
        raise InputError(
            f"{pipeline_yaml}: not a compiled KFP pipeline ({type(e).__name__})"
        ) from None
    if not isinstance(found, dict):
        raise InputError(f"{pipeline_yaml}: not a compiled KFP pipeline ({'.'.join(keys)})")
    return found


def parse_parameters(pairs: list[str], declared: dict[str, tuple[str, object]]) -> dict:
    values = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise InputError(f"parameter {pair!r} is not key=value")
        if key not in declared:
            raise InputError(
                f"unknown pipeline parameter {key!r}; known: {', '.join(sorted(declared))}"
            )
        kind = declared[key][0]
        if raw.startswith("@") and kind in ("LIST", "STRUCT"):
            raw = _read_value(key, Path(raw[1:]))
        try:
            values[key] = _PARSERS[kind](raw)
        except (ValueError, KeyError) as e:
            shown = raw if len(raw) <= 60 else raw[:57] + "..."
            raise InputError(
                f"parameter {key}={shown!r}: not a valid {kind.lower()} ({e})"
            ) from None
    return values


def _read_value(key: str, path: Path) -> str:
    """The text of `path`, the value of KEY=@FILE (its size checked first), or one line."""
    return read_text(path, f"parameter {key}=@{path}", MAX_VALUE_FILE_BYTES)


def check_arguments(
    arguments: dict,
    declared: dict[str, tuple[str, object]],
    tracked: bool = True,
    halving: Halving | None = None,
) -> None:
    """The steps' checks on the values a run will see (the given ones over the declared defaults):
    each step's configuration made of the parameters the table says it takes, and checked. A
    parameter the pipeline does not declare (compiled before it existed) is checked at the table's
    default, which its step uses. `tracked`: whether the steps will have an MLflow tracking URI
    (a local run knows; in a cluster KFP's MLflow plugin may give one); `halving`: a sweep's."""
    values = (
        {name: p.default for name, p in ALL_PARAMETERS.items()}
        | {name: default for name, (_, default) in declared.items()}
        | arguments
    )
    for name, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"parameter {name}={value}: not a finite number")
    for step, config in _STEP_CONFIGS.items():
        config.of(step_arguments(step, values)).check()
    if is_sweep(declared):  # each trial over the run's training parameters
        (listed,) = step_values("sweep", values).values()
        plan_trials(listed, step_arguments("train", values), halving)
    _check_deploy(step_values("deploy", values))
    _check_register(step_values("register", values), tracked)
    _check_placement(step_values("placement", values))


def _check_deploy(values: dict) -> None:
    name, namespace = values["deploy_name"], values["deploy_namespace"]
    check_service_name(name, "parameter deploy_name")
    if namespace:
        check_namespace(namespace, "parameter deploy_namespace")


def _check_register(values: dict, tracked: bool) -> None:
    name = check_model_name(values["register_as"], "parameter register_as")
    if values["register_alias"]:  # empty: the default alias, none for a trial
        check_alias(values["register_alias"], "parameter register_alias")
    if name and not tracked:
        raise InputError(
            f"parameter register_as={name} registers in MLflow's model registry: pass --mlflow "
            f"URI (a tracking server) or set {TRACKING_URI}"
        )


def _check_placement(values: dict) -> None:
    """The run-time placement, by the API server's rules."""
    accelerator, count = values["gpu_type"], values["gpu_count"]
    selector, tolerations = values["gpu_node_selector"], values["gpu_tolerations"]
    if not re.fullmatch(r"[1-9][0-9]*", str(count)):
        raise InputError(f"parameter gpu_count={count!r}: must be a whole number of GPUs, e.g. 1")
    if not is_qualified_name(str(accelerator)):
        raise InputError(f"parameter gpu_type={accelerator!r}: not a resource name")
    if not isinstance(selector, dict) or not all(
        is_qualified_name(str(k)) and is_label_value(str(v)) for k, v in selector.items()
    ):
        raise InputError(f"parameter gpu_node_selector={selector!r}: not node labels")
    if not isinstance(tolerations, list) or not all(map(_is_toleration, tolerations)):
        raise InputError(
            f"parameter gpu_tolerations={tolerations!r}: not Kubernetes tolerations (key, operator "
            f"Equal or Exists, effect one of {', '.join(EFFECTS)} or empty)"
        )


def _is_toleration(toleration: object) -> bool:
    """A toleration the API server accepts: a qualified key (none only with operator Exists, which
    then tolerates every taint), a known operator and effect."""
    if not isinstance(toleration, dict):
        return False
    operator = toleration.get("operator", "Equal")
    key = str(toleration.get("key", ""))
    return (
        (is_qualified_name(key) or (not key and operator == "Exists"))
        and operator in ("Equal", "Exists")
        and toleration.get("effect", "") in ("", *EFFECTS)
    )


# The steps whose configuration checks their parameters.
_STEP_CONFIGS: dict[str, type[StepConfig]] = {
    "data": DataConfig,
    "train": TrainConfig,
    "evaluate": GateConfig,
    "verify": VerifyConfig,
}
