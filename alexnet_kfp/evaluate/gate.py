"""The ship/no-ship decision, as a pure function with a reason a person understands."""

import math
from dataclasses import dataclass

from alexnet_kfp.config import StepConfig, option
from alexnet_kfp.errors import InputError
from alexnet_kfp.records import Gate

# The gate's defaults, for the CLI, the function and the pipeline alike: a model must beat the
# article it replaces (64.8 % test accuracy) to ship. The quick profile lowers the bar explicitly.
DEFAULT_MIN_ACCURACY = 0.65
# With a baseline (the last blessed model), accuracy may fall at most one point below it.
DEFAULT_MAX_REGRESSION = 0.01


@dataclass
class GateConfig(StepConfig):
    """What the evaluate step's gate asks of a model; recorded in metrics.json."""

    min_accuracy: float = option(
        DEFAULT_MIN_ACCURACY,
        "the gate: the least test accuracy (a fraction) to export",
        metavar="F",
    )
    baseline: str = option(
        "",
        "a blessed model to compare with: its metrics.json, model.keras or model.onnx, or their "
        "directory; empty: none",
        metavar="PATH",
    )
    max_regression: float = option(
        DEFAULT_MAX_REGRESSION,
        "with a baseline: how far test accuracy may fall below it",
        metavar="F",
    )

    def check(self) -> "GateConfig":
        check_thresholds(self.min_accuracy, self.max_regression)
        return self


def check_thresholds(min_accuracy: float, max_regression: float) -> None:
    """Refuse thresholds that would switch the gate off: NaN passes every `<` test as False.
    min_accuracy above 1 is allowed: a gate that can never pass (it exercises the reject branch)."""
    if not 0.0 <= min_accuracy < math.inf:
        raise InputError(f"min_accuracy must be a number >= 0, got {min_accuracy}")
    if not 0.0 <= max_regression <= 1.0:
        raise InputError(f"max_regression must lie between 0 and 1, got {max_regression}")


def check_accuracy(accuracy: float, origin: str) -> float:
    """An accuracy read from a file: a number in [0, 1], or one line naming the file."""
    if (
        not isinstance(accuracy, (int, float))
        or isinstance(accuracy, bool)
        or not 0.0 <= accuracy <= 1.0
    ):
        raise InputError(f"{origin}: accuracy must be a number between 0 and 1, found {accuracy!r}")
    return float(accuracy)


def decide(
    accuracy: float,
    min_accuracy: float,
    baseline_accuracy: float | None = None,
    max_regression: float = DEFAULT_MAX_REGRESSION,
) -> Gate:
    """Pass when accuracy >= min_accuracy and, with a baseline, accuracy >= baseline -
    max_regression."""
    check_thresholds(min_accuracy, max_regression)
    failures = []
    if accuracy < min_accuracy:
        failures.append(f"accuracy {accuracy:.3f} < min_accuracy {min_accuracy:.3f}")
    if baseline_accuracy is not None and accuracy < baseline_accuracy - max_regression:
        failures.append(
            f"accuracy {accuracy:.3f} < baseline {baseline_accuracy:.3f} - max_regression "
            f"{max_regression:.3f} = {baseline_accuracy - max_regression:.3f}"
        )
    if failures:
        reason = " and ".join(failures)
    else:
        reason = f"accuracy {accuracy:.3f} >= min_accuracy {min_accuracy:.3f}"
        if baseline_accuracy is not None:
            reason += (
                f" and >= baseline {baseline_accuracy:.3f} - max_regression {max_regression:.3f}"
            )
    return Gate(not failures, reason, accuracy, min_accuracy, baseline_accuracy, max_regression)
