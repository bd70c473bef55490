"""`alexnet-kfp sweep --grid`: a sweep's trials as the product of a few training parameters' values,
each value typed by the parameter table and each trial checked as the plan step will check it."""

import itertools
import math

from alexnet_kfp.errors import InputError
from alexnet_kfp.pipeline.parameters import ALL_PARAMETERS, PARAMETERS, step_arguments
from alexnet_kfp.train.trials import KIND_NAMES, MAX_TRIALS, plan_trials
from alexnet_kfp.untrusted import integer, number

_BOOLEANS = {"true": True, "false": False}
_SEED = "seed"  # the training parameter --seeds sets


def trial_defaults() -> dict:
    """The training parameters a trial may set, at the compiled pipeline's defaults."""
    return step_arguments("train", {p.name: p.default for p in PARAMETERS})


def grid_trials(axes: list[str], seeds: list[int] | None = None) -> list[dict]:
    """The product of `axes` ("KEY=V1,V2,..."), then of `seeds` (the last axis), as trial objects
    in the order the axes are given; one line for a malformed axis, an unknown key or a value the
    train step refuses."""
    names: list[str] = []
    texts: list[list[str]] = []
    for axis in axes:
        name, sep, raw = axis.partition("=")
        if not sep or not raw:
            example = "learning_rate=1e-3,3e-4"
            raise InputError(f"--grid {axis!r}: expected KEY=V1,V2,... e.g. {example}")
        if name not in trial_defaults():
            known = ", ".join(sorted(trial_defaults()))
            raise InputError(f"--grid {name}: not a training parameter; one of: {known}")
        if name in names:
            raise InputError(f"--grid {name}: given twice; list all its values in one --grid")
        names.append(name)
        texts.append(raw.split(","))
    _check_count([len(t) for t in texts] + ([len(seeds)] if seeds else []))
    values: list[list[object]] = [
        [parsed_value(name, text, f"--grid {name}") for text in given]
        for name, given in zip(names, texts, strict=True)
    ]
    if not names and not seeds:
        raise InputError("nothing to sweep: give --grid KEY=V1,V2 (repeatable) or --seeds")
    combinations = itertools.product(*values)  # no axes: one empty trial, for the seeds
    listed = [dict(zip(names, combination, strict=True)) for combination in combinations]
    listed = with_seeds(listed, seeds, "--grid")
    plan_trials(listed, trial_defaults())  # each trial as the plan step will check it
    return listed


def with_seeds(listed: list[dict], seeds: list[int] | None, flag: str) -> list[dict]:
    """Each trial of `listed` once with every one of `seeds` (--seeds: the last axis), or as it
    is."""
    if not seeds:
        return listed
    if any(_SEED in trial for trial in listed):
        raise InputError(f"--seeds and {flag} {_SEED}=...: give the seeds once")
    return [{**trial, _SEED: each} for trial in listed for each in seeds]


def _check_count(lengths: list[int]) -> None:
    """Refuse a grid of more than MAX_TRIALS trials before any is made."""
    count = math.prod(lengths)
    if count > MAX_TRIALS:
        shown = " x ".join(map(str, lengths))
        raise InputError(f"--grid: {shown} = {count:,} trials; at most {MAX_TRIALS} in one sweep")


def parsed_value(name: str, text: str, where: str) -> object:
    """`text` as the training parameter `name`'s type, or one line starting with `where`."""
    kind = ALL_PARAMETERS[name].type
    parse = {bool: _BOOLEANS.__getitem__, int: _integer, float: _number}.get(kind, kind)
    try:
        return parse(text.lower() if kind is bool else text)
    except (KeyError, ValueError):
        raise InputError(f"{where}: {text!r} is not a {KIND_NAMES[kind]}") from None


def _integer(text: str) -> int:
    return integer(text, "value")


def _number(text: str) -> float:
    return number(text, "value")
