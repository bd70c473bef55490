"""A sweep's trials: a JSON list of objects, each setting some training parameters over the run's
own (e.g. `[{"learning_rate": 0.001}, {"learning_rate": 0.0003, "variant": "article"}]`).

`plan_trials` checks the list and completes each trial before any trains: by `alexnet-kfp run`
and `submit` on this side, and by the sweep's plan step again inside the cluster. Free of
TensorFlow and kfp.
"""

import json
from typing import TypedDict

from alexnet_kfp.errors import InputError
from alexnet_kfp.records import Scalar, TrainingValues
from alexnet_kfp.train.config import TrainConfig
from alexnet_kfp.train.halving import Halving

# The most trials in one sweep. Each trial is a GPU training run, and the step that collects the
# trials' models gets them all on one command line, which Linux caps at 128 KiB (KFP passes a
# step's inputs there, about 330 bytes a model: tests/kfp_backend/command_line.py); 250 trials
# take three quarters of it under a long pipeline root.
MAX_TRIALS = 250
EXAMPLE = '[{"learning_rate": 0.001}, {"learning_rate": 0.0003}]'


class PlannedTrial(TypedDict):
    """One trial as the sweep's loop hands it to its trial task (a STRUCT: a JSON object)."""

    index: int
    given: TrainingValues
    settings: TrainingValues


def plan_trials(
    trials: object, defaults: TrainingValues, halving: Halving | None = None
) -> list[PlannedTrial]:
    """[{"index": i, "given": what trial i sets, "settings": `defaults` with it over them}] for a
    list of trial objects, or one line naming the trial (by its index, from 0) and the key: not a
    list, empty, too long, a trial that is not an object, an unknown key (the keys are those of
    `defaults`: the training parameters), a value of the wrong type or one the train step refuses,
    or a trial that repeats an earlier one; with `halving`, fewer trials than a rung divides by,
    or a trial whose epochs are too few to halve."""
    if not isinstance(trials, list) or not trials:
        raise InputError(f"trials: expected a non-empty JSON list of objects, e.g. {EXAMPLE}")
    if len(trials) > MAX_TRIALS:
        raise InputError(f"trials: {len(trials)} trials; at most {MAX_TRIALS} in one sweep")
    planned: list[PlannedTrial] = []
    first_of: dict[str, int] = {}
    for index, trial in enumerate(trials):
        where = f"trials: trial {index}"
        if not isinstance(trial, dict):
            raise InputError(f"{where}: expected an object of training settings, e.g. {EXAMPLE}")
        given = {key: _typed(key, value, defaults, where) for key, value in trial.items()}
        settings = {**defaults, **given}
        try:
            config = TrainConfig.of(settings).check()
            if halving is not None:
                halving.rung_epochs(config.epochs)
        except InputError as e:
            raise InputError(f"{where}: {e}") from None
        key = json.dumps(settings, sort_keys=True)
        if key in first_of:
            raise InputError(
                f"{where} repeats trial {first_of[key]} ({json.dumps(given, sort_keys=True)})"
            )
        first_of[key] = index
        planned.append(PlannedTrial(index=index, given=given, settings=settings))
    if halving is not None and len(planned) < halving.eta:
        raise InputError(
            f"trials: halving by {halving.eta} needs at least {halving.eta} trials, got "
            f"{len(planned)}"
        )
    return planned


def _typed(key: object, value: object, defaults: TrainingValues, where: str) -> Scalar:
    """`value` as the type of the parameter `key` (a whole number for a float is made one), or one
    line."""
    if key not in defaults:
        known = ", ".join(sorted(defaults))
        raise InputError(f"{where}: unknown setting {key!r}; a trial sets any of: {known}")
    kind = type(defaults[key])
    if kind is float and type(value) is int:
        return float(value)
    if kind is int and type(value) is float and value.is_integer():
        return int(value)  # KFP passes a list's numbers as doubles: 3 arrives as 3.0
    if type(value) is not kind:
        shown = json.dumps(value) if _is_json(value) else repr(value)
        raise InputError(f"{where}: {key}={shown} is not a {KIND_NAMES.get(kind, kind.__name__)}")
    return value


def _is_json(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


KIND_NAMES = {int: "whole number", float: "number", str: "string", bool: "boolean"}
