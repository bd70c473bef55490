"""The evaluate component: metrics, pictures and report, and the gate's decision for the pipeline's
dsl.If; reject_op is the gate's Else branch."""

from typing import NamedTuple

from kfp.dsl import HTML, Artifact, ClassificationMetrics, Dataset, Input, Metrics, Model, Output

from alexnet_kfp.components import component


@component
def evaluate_op(
    dataset: Input[Dataset],
    model: Input[Model],
    min_accuracy: float,
    baseline: str,
    max_regression: float,
    evaluation: Output[Artifact],
    metrics: Output[Metrics],
    confusion: Output[ClassificationMetrics],
    report: Output[HTML],
) -> NamedTuple(  # type: ignore[valid-type] # KFP's form: the pod runs this function alone
    "GateOutputs", [("accuracy", float), ("passed", bool), ("reason", str)]
):
    """Metrics, pictures and report; returns the gate's decision for the pipeline's dsl.If. Every
    argument but the artifacts is a GateConfig field of the same name."""
    inputs = list(locals())  # the task's inputs' names, first, while they are all there is
    import shutil
    from collections import namedtuple

    from alexnet_kfp.evaluate.gate import GateConfig
    from alexnet_kfp.process import one_line_errors, setup
    from alexnet_kfp.progress import finished, tell
    from alexnet_kfp.tracking.environment import kfp_logs_inputs

    setup("evaluate", tensorflow=True)
    kfp_logs_inputs(inputs)  # KFP's MLflow plugin logs them; the step logs the rest
    from alexnet_kfp.evaluate.evaluate import evaluate  # after the quiet TensorFlow import
    from alexnet_kfp.evaluate.tracking import metric_key

    with one_line_errors("evaluate"):
        result = evaluate(
            dataset.path,
            model.path,
            evaluation.path,
            GateConfig(min_accuracy=min_accuracy, baseline=baseline, max_regression=max_regression),
        )
    metrics.log_metric("accuracy", result.accuracy)
    metrics.log_metric("macro_f1", result.macro_f1)
    for name, per_class in result.per_class.items():  # as MLflow takes them: KFP's plugin copies
        metrics.log_metric(f"f1_{metric_key(name)}", per_class.f1)
    confusion.log_confusion_matrix(result.class_names, result.confusion_matrix)
    shutil.copyfile(f"{evaluation.path}/report.html", report.path)
    gate = result.gate
    tell("evaluate", f"gate {'passed' if gate.passed else 'failed'}: {gate.reason}")
    finished("evaluate", evaluation=evaluation.path, report=report.path)
    GateOutputs = namedtuple("GateOutputs", ["accuracy", "passed", "reason"])
    return GateOutputs(result.accuracy, gate.passed, gate.reason)


@component
def reject_op(reason: str):
    """The Else branch of the gate: fail the run, saying why."""
    from alexnet_kfp.process import REJECTED, record_failure

    said = f"model rejected by the evaluation gate: {reason}"
    record_failure("gate", REJECTED, said, reason)
    raise SystemExit(said)
