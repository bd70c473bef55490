"""What the evaluate step logs to MLflow when a tracking URI is set: the gate's thresholds as
parameters, test accuracy, macro and per-class F1 and the gate's decision as metrics (the
decision and its reason also as tags), and the report, pictures and metrics.json; the accuracy,
macro F1 and decision on the pipeline's run too."""

import re
from pathlib import Path

from alexnet_kfp.records import MetricsRecord
from alexnet_kfp.tracking import tracked

# What MLflow takes in a metric's name (validate_param_and_metric_name): a class name's other
# characters become "_" there (the report and metrics.json keep the name as it is).
_NOT_IN_A_KEY = re.compile(r"[^/\w.\- :]")


def metric_key(class_name: str) -> str:
    return _NOT_IN_A_KEY.sub("_", class_name)


def log_evaluation(metrics: MetricsRecord, out_dir: Path) -> None:
    gate = metrics.gate
    with tracked("evaluate") as tracker:
        tracker.params(
            {
                "min_accuracy": gate.min_accuracy,
                "baseline": metrics.baseline or "",
                "max_regression": gate.max_regression,
            }
        )
        per_class = {f"f1_{metric_key(name)}": c.f1 for name, c in metrics.per_class.items()}
        tracker.metrics(
            {
                "test_accuracy": metrics.accuracy,
                "macro_f1": metrics.macro_f1,
                "gate_passed": float(gate.passed),
                **per_class,
            }
        )
        decision = {"gate": "passed" if gate.passed else "failed", "gate_reason": gate.reason}
        tracker.tags(decision)
        headline = {"test_accuracy": metrics.accuracy, "macro_f1": metrics.macro_f1}
        tracker.headline({**headline, "gate_passed": float(gate.passed)}, decision)
        tracker.artifacts(out_dir, "evaluation")
