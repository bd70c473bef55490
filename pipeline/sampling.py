"""`alexnet-kfp sweep --sample KEY=DIST:ARGS --count N --seed S`: a sweep's trials drawn at random
from a distribution per training parameter, the same trials for the same seed (Python's
`random.Random`, whose draws its documentation keeps reproducible across versions), each trial
checked as the plan step will check it."""

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from alexnet_kfp.errors import InputError
from alexnet_kfp.pipeline.grid import parsed_value, trial_defaults, with_seeds
from alexnet_kfp.pipeline.parameters import ALL_PARAMETERS
from alexnet_kfp.train.trials import KIND_NAMES, MAX_TRIALS, plan_trials
from alexnet_kfp.untrusted import integer, number

# Each distribution, as `--help` lists it.
DISTRIBUTIONS = {
    "uniform": "uniform:LOW:HIGH, a number between the two",
    "loguniform": "loguniform:LOW:HIGH, a number between two positive ones, even on a log scale "
    "(rates, decays)",
    "int": "int:LOW:HIGH, a whole number, both ends included",
    "choice": "choice:A,B,..., one of the values listed",
}
SIGNIFICANT_DIGITS = 4  # a drawn number is written with these: a trial file people can read
_DRAWS_PER_TRIAL = 50  # the draws given to find that many distinct trials before giving up


@dataclass(frozen=True)
class Sampled:
    """One --sample: the parameter and how to draw its value."""

    name: str
    draw: Callable[[random.Random], object]


def parse_sample(text: str) -> Sampled:
    """`KEY=DIST:ARGS` as a Sampled, or one line: an unknown key or distribution, bounds that are
    not numbers, reversed, or not positive for loguniform, a distribution the parameter's type
    cannot take."""
    name, sep, spec = text.partition("=")
    dist, colon, args = spec.partition(":")
    if not sep or not colon or not args:
        raise InputError(f"--sample {text!r}: expected KEY=DIST:ARGS, e.g. {EXAMPLE}")
    if name not in trial_defaults():
        known = ", ".join(sorted(trial_defaults()))
        raise InputError(f"--sample {name}: not a training parameter; one of: {known}")
    kind = ALL_PARAMETERS[name].type
    where = f"--sample {name}"
    if dist == "choice":
        values = [parsed_value(name, value, where) for value in args.split(",")]
        return Sampled(name, lambda rng: rng.choice(values))
    if dist not in DISTRIBUTIONS:
        raise InputError(
            f"{where}: unknown distribution {dist!r}; one of: {', '.join(DISTRIBUTIONS)}"
        )
    low_text, colon, high_text = args.partition(":")
    if not colon:
        raise InputError(f"{where}: {dist} takes LOW:HIGH, e.g. {dist}:1e-4:1e-2")
    if dist == "int":
        if kind is not int:
            raise InputError(f"{where}: int draws whole numbers; {name} takes a {KIND_NAMES[kind]}")
        low, high = integer(low_text, f"{where} LOW"), integer(high_text, f"{where} HIGH")
        _ordered(where, low, high)
        return Sampled(name, lambda rng: rng.randint(low, high))
    if kind is not float:
        raise InputError(f"{where}: {dist} draws numbers; {name} takes a {KIND_NAMES[kind]}")
    lo, hi = number(low_text, f"{where} LOW"), number(high_text, f"{where} HIGH")
    _ordered(where, lo, hi)
    if dist == "uniform":
        return Sampled(name, lambda rng: _readable(rng.uniform(lo, hi)))
    if lo <= 0:
        raise InputError(f"{where}: loguniform needs bounds above 0, got {lo:g}")
    return Sampled(name, lambda rng: _readable(math.exp(rng.uniform(math.log(lo), math.log(hi)))))


EXAMPLE = "learning_rate=loguniform:1e-4:1e-2"


def _ordered(where: str, low: float, high: float) -> None:
    if not low < high:
        raise InputError(f"{where}: LOW must be below HIGH, got {low:g} and {high:g}")


def _readable(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def sampled_trials(
    samples: list[str], count: int, draw_seed: int, seeds: list[int] | None = None
) -> list[dict]:
    """`count` distinct trials, each a value drawn for every --sample (in the order given) by a
    generator seeded with `draw_seed`; then each repeated with every one of `seeds`."""
    parsed = [parse_sample(text) for text in samples]
    names = [sample.name for sample in parsed]
    if len(set(names)) != len(names):
        raise InputError("--sample: a parameter given twice; one distribution each")
    total = count * len(seeds or [0])
    if not 1 <= count or total > MAX_TRIALS:
        raise InputError(f"--count {count}: {total:,} trials; 1 to {MAX_TRIALS} in one sweep")
    rng, drawn = random.Random(draw_seed), []
    for _ in range(count * _DRAWS_PER_TRIAL):
        trial = {sample.name: sample.draw(rng) for sample in parsed}
        if trial not in drawn:
            drawn.append(trial)
        if len(drawn) == count:
            break
    else:
        raise InputError(
            f"--count {count}: the distributions give only {len(drawn)} distinct trials; "
            "lower --count or widen them"
        )
    listed = with_seeds(drawn, seeds, "--sample")
    plan_trials(listed, trial_defaults())  # each trial as the plan step will check it
    return listed
