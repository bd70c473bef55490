"""The ship/no-ship decision, as a pure function with a reason a person understands."""

from dataclasses import asdict, dataclass

DEFAULT_MIN_ACCURACY = 0.5
DEFAULT_MAX_REGRESSION = 0.01


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    reason: str
    accuracy: float
    min_accuracy: float
    baseline_accuracy: float | None
    max_regression: float

    def as_dict(self) -> dict:
        return asdict(self)


def decide(accuracy: float, min_accuracy: float, baseline_accuracy: float | None = None,
           max_regression: float = DEFAULT_MAX_REGRESSION) -> GateDecision:
    """Pass when accuracy >= min_accuracy and, with a baseline, accuracy >= baseline - max_regression."""
    failures = []
    if accuracy < min_accuracy:
        failures.append(f"accuracy {accuracy:.3f} < min_accuracy {min_accuracy:.3f}")
    if baseline_accuracy is not None and accuracy < baseline_accuracy - max_regression:
        failures.append(f"accuracy {accuracy:.3f} < baseline {baseline_accuracy:.3f} - max_regression "
                        f"{max_regression:.3f} = {baseline_accuracy - max_regression:.3f}")
    if failures:
        reason = " and ".join(failures)
    else:
        reason = f"accuracy {accuracy:.3f} >= min_accuracy {min_accuracy:.3f}"
        if baseline_accuracy is not None:
            reason += f" and >= baseline {baseline_accuracy:.3f} - max_regression {max_regression:.3f}"
    return GateDecision(not failures, reason, accuracy, min_accuracy, baseline_accuracy, max_regression)
