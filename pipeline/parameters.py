"""The pipeline's parameters, each declared once: its name, type, default, help, the steps that take
(and check) it, and what a local or quick run sets instead of the default.

Made from this table: both pipeline functions' signatures and `Args:` (the descriptions in the
Kubeflow UI's run form), `alexnet-kfp run`'s flags, the parameter lists of `run --help` and
`submit --help`, the run profiles (profiles.py) and docs/parameters.md (parameter_docs.py). The
components keep explicit signatures (a lightweight component ships its own source); a test holds
them to this table. A parameter that a step's configuration has (TrainConfig, DataConfig,
GateConfig, VerifyConfig) takes its type, step default and help from that field: one wording
everywhere.

Free of kfp and TensorFlow: the CLI reads it to build its flags.
"""

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from alexnet_kfp.data.config import DataConfig
from alexnet_kfp.deploy.manifests import DEFAULT_NAME as DEFAULT_SERVICE_NAME
from alexnet_kfp.errors import InputError
from alexnet_kfp.evaluate.gate import GateConfig
from alexnet_kfp.export import VerifyConfig
from alexnet_kfp.pipeline.placement import Placement
from alexnet_kfp.tracking.registry import DEFAULT_ALIAS
from alexnet_kfp.train.config import TrainConfig
from alexnet_kfp.train.trials import EXAMPLE as TRIALS_EXAMPLE
from alexnet_kfp.train.trials import MAX_TRIALS

# The steps a parameter goes to. "pipeline" is the DAG itself (the deploy switch); "placement" the
# train task's GPU node, as run-time parameters (placement.py); "sweep" the sweep's plan step.
STEPS = (
    "data", "train", "evaluate", "verify", "register", "deploy", "pipeline", "placement", "sweep",
)  # fmt: skip


class _Same:
    """The marker of a profile that keeps the value of the one it builds on."""

    def __repr__(self) -> str:
        return "same"


SAME = _Same()


@dataclass(frozen=True)
class Parameter:
    """One pipeline parameter: `default` is the compiled pipeline's and the step's own (its
    command's flag, its configuration's field); `local` and `quick` what the profiles of `run` and
    `run --quick` set instead; `arg` the component's argument name where it differs."""

    name: str
    type: type
    default: object
    help: str
    steps: tuple[str, ...]
    arg: str = ""
    choices: tuple = ()
    local: object = SAME
    quick: object = SAME

    @property
    def argument(self) -> str:
        return self.arg or self.name

    @property
    def described(self) -> str:
        """The help as a sentence, for the UI's run form and the docs: the choices named."""
        text = self.help[:1].upper() + self.help[1:]
        if not all(choice in self.help for choice in self.choices):
            text += f" (one of: {', '.join(self.choices)})"
        return text + "."


def _field(
    config: Any,
    field_name: str,
    steps: tuple[str, ...],
    name: str = "",
    default: object = SAME,
    **columns: Any,
) -> Parameter:
    """A parameter that is a field of a step's configuration: its type, default and help come from
    the field (`name` when the pipeline calls it otherwise). `default` only for require_gpu, which
    the pipeline sets by where it places the train step (docs/design.md)."""
    field = config.__dataclass_fields__[field_name]
    assert isinstance(field.type, type)  # the pipeline's knobs are plain types
    return Parameter(
        name or field_name,
        field.type,
        field.default if default is SAME else default,
        str(columns.pop("help", field.metadata["help"])),
        steps,
        arg=field_name if name else "",
        choices=tuple(field.metadata.get("choices", ())),
        **columns,
    )


def _data(name: str, **columns: Any) -> Parameter:
    return _field(DataConfig, name, ("data",), **columns)


def _train(name: str, **columns: Any) -> Parameter:
    return _field(TrainConfig, name, ("train",), **columns)


_DEFAULT_PLACEMENT = Placement()

PARAMETERS: tuple[Parameter, ...] = (
    _data("source"),
    _data("sha256"),
    _data("md5"),
    _data("val_fraction"),
    _field(
        DataConfig,
        "seed",
        ("data", "train"),
        help="random seed of the split, initial weights, shuffling and augmentation",
    ),
    _data("limit_per_class", quick=500),
    _data("skip_unreadable"),
    _train("variant", quick="article"),
    _train("epochs", local=8, quick=6),
    _train("batch_size"),
    _train("learning_rate"),
    _train("precision"),
    _train("crop_padding", local=0),
    _train("plateau_patience"),
    _train("plateau_factor"),
    _train("final_decay_fraction"),
    _train("require_gpu", default=True, local=False),
    _field(GateConfig, "min_accuracy", ("evaluate",), quick=0.2),
    _field(GateConfig, "baseline", ("evaluate",)),
    _field(GateConfig, "max_regression", ("evaluate",)),
    _field(VerifyConfig, "atol", ("verify",), name="parity_atol"),
    _field(VerifyConfig, "int8_max_loss", ("verify",)),
    Parameter(
        "register_as",
        str,
        "",
        "after verify, register the verified ONNX model as a new version of this MLflow "
        "registered model (the steps need a tracking URI: KFP's MLflow plugin, or `run --mlflow`); "
        "empty: nothing is registered",
        ("pipeline", "register"),
        arg="name",
    ),
    Parameter(
        "register_alias",
        str,
        "",
        f"the alias the registered version gets; empty: {DEFAULT_ALIAS}, and none for a trial "
        "model (trained on a sample); `alexnet-kfp promote` moves an alias such as production "
        "by a rule",
        ("register",),
        arg="alias",
    ),
    Parameter(
        "deploy",
        bool,
        False,
        "after verify, create or update a KServe InferenceService",
        ("pipeline",),
    ),
    Parameter(
        "deploy_name",
        str,
        DEFAULT_SERVICE_NAME,
        "the InferenceService's name",
        ("deploy",),
        arg="name",
    ),
    Parameter(
        "deploy_namespace",
        str,
        "",
        "the InferenceService's namespace; empty: the run's own",
        ("deploy",),
        arg="namespace",
    ),
)

# `alexnet-kfp compile --runtime-placement` adds these (backends from 2.5.0: placement.py).
PLACEMENT_PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "gpu_type",
        str,
        _DEFAULT_PLACEMENT.gpu_type,
        "the train pod's accelerator resource, e.g. nvidia.com/gpu or amd.com/gpu",
        ("placement",),
    ),
    Parameter(
        "gpu_count",
        str,
        str(_DEFAULT_PLACEMENT.gpu_count),
        "GPUs for the train pod (a string: the backend reads this value as one)",
        ("placement",),
    ),
    Parameter(
        "gpu_node_selector",
        dict,
        dict(_DEFAULT_PLACEMENT.node_selector),
        'node labels the train pod must match, e.g. {"pool": "gpu"}',
        ("placement",),
    ),
    Parameter(
        "gpu_tolerations",
        list,
        [dict(t) for t in _DEFAULT_PLACEMENT.tolerations],
        "taints the train pod tolerates, as Kubernetes toleration objects",
        ("placement",),
    ),
)

# What a sweep's trial may set: the training parameters, as the plan step takes them.
TRIAL_SETTINGS = tuple(p.argument for p in PARAMETERS if "train" in p.steps)

# The sweep pipeline (sweep.py) adds this; its training parameters above are each trial's defaults.
SWEEP_PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "trials",
        list,
        json.loads(TRIALS_EXAMPLE),
        "the sweep's trials: a JSON list of objects, each setting training parameters "
        f"({', '.join(TRIAL_SETTINGS)}) over this run's, e.g. {TRIALS_EXAMPLE}; the one with the "
        "best validation accuracy goes on",
        ("sweep",),
    ),
)


def is_sweep(names: Iterable[str]) -> bool:
    """Whether parameters of these names are a sweep's (they name its list of trials)."""
    return any(p.name in names for p in SWEEP_PARAMETERS)


# The sweep's trials at once: its ParallelFor's parallelism, which KFP writes into the spec when
# compiling (`alexnet-kfp compile --sweep --parallelism N`), not a run-time parameter; at most
# every trial of the largest sweep.
DEFAULT_PARALLELISM, MAX_PARALLELISM = 4, MAX_TRIALS


def check_parallelism(parallelism: int) -> int:
    if not 1 <= parallelism <= MAX_PARALLELISM:
        raise InputError(
            f"--parallelism must be between 1 and {MAX_PARALLELISM} trials, got {parallelism}"
        )
    return parallelism


ALL_PARAMETERS = {p.name: p for p in PARAMETERS + PLACEMENT_PARAMETERS + SWEEP_PARAMETERS}


def parameters_for(placement: Placement, sweep: bool = False) -> tuple[Parameter, ...]:
    """The pipeline's parameters for `placement`: the run-time ones appended in that mode; a
    CPU-only pipeline does not require a GPU by default; a sweep's `trials` last."""
    chosen = PARAMETERS + (PLACEMENT_PARAMETERS if placement.runtime else ())
    if not placement.uses_gpu:
        chosen = tuple(
            dataclasses.replace(p, default=False) if p.name == "require_gpu" else p for p in chosen
        )
    return chosen + (SWEEP_PARAMETERS if sweep else ())


def step_inputs(step: str, values: dict) -> dict:
    """The arguments of `step`'s component, by its own names, from the pipeline's values."""
    return {p.argument: values[p.name] for p in ALL_PARAMETERS.values() if step in p.steps}


def step_values(step: str, values: dict) -> dict:
    """The values `step` takes, by the pipeline's names, cast to their declared types (a compiled
    spec gives whole numbers of a float parameter as ints), leaving out the ones not given."""
    return {
        name: _cast(ALL_PARAMETERS[name], value)
        for name, value in values.items()
        if name in ALL_PARAMETERS and step in ALL_PARAMETERS[name].steps
    }


def step_arguments(step: str, values: dict) -> dict:
    """step_values by the step's own names (its component's arguments, its configuration's
    fields)."""
    return {
        ALL_PARAMETERS[name].argument: value for name, value in step_values(step, values).items()
    }


def _cast(parameter: Parameter, value: object) -> object:
    if (
        parameter.type in (int, float)
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        return parameter.type(value)
    return value


def docstring(summary: str, parameters: tuple[Parameter, ...]) -> str:
    """A pipeline function's docstring, whose `Args:` KFP turns into the parameters'
    descriptions."""
    args = "\n".join(f"    {p.name}: {p.described}" for p in parameters)
    return f"{summary}\n\nArgs:\n{args}\n"


PROFILE_NAMES = ("local", "quick")


def profile_values(profile: str) -> dict[str, object]:
    """What a profile sets over the pipeline's defaults: "local" (`run`) or "quick" (`run
    --quick`, building on local)."""
    values: dict[str, object] = {}
    for layer in PROFILE_NAMES[: PROFILE_NAMES.index(profile) + 1]:
        values |= {p.name: getattr(p, layer) for p in PARAMETERS if getattr(p, layer) is not SAME}
    return values
