"""`alexnet-kfp evaluate`: metrics, pictures, report and gate (alexnet_kfp.evaluate.evaluate)."""

import argparse

from alexnet_kfp.cli.exits import EXIT_GATE_FAILED
from alexnet_kfp.cli.options import (
    DATASET_DIR,
    MODEL_DIR,
    command,
    config_flags,
    config_from,
    directories,
    new_dir,
)
from alexnet_kfp.evaluate.gate import GateConfig
from alexnet_kfp.process import import_tensorflow


def _cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate a Model on the Dataset's test split: accuracy, per-class precision, recall and
    F1, confusion matrices, training curves, the most confident mistakes, report.html and
    metrics.json. Exit code 0 when the gate passes, {gate_failed} when it fails (the report is still
    written), 2 on bad input."""
    gate_config = config_from(GateConfig, args)  # checked before TensorFlow is imported
    import_tensorflow()
    from alexnet_kfp.evaluate.evaluate import evaluate

    metrics = evaluate(args.data, args.model, args.out, gate_config)
    gate = metrics.gate
    print(
        f"test accuracy {metrics.accuracy:.4f}, macro F1 {metrics.macro_f1:.4f}; gate "
        f"{'passed' if gate.passed else 'FAILED'}: {gate.reason}; report: "
        f"{args.out}/report.html"
    )
    return 0 if gate.passed else EXIT_GATE_FAILED


def add(sub) -> None:
    help_text = "test-set metrics, pictures, an HTML report and the accuracy gate"
    p = command(sub, _cmd_evaluate, help_text, gate_failed=EXIT_GATE_FAILED)
    directories(p, data=DATASET_DIR, model=MODEL_DIR, out=new_dir("Evaluation"))
    config_flags(p, GateConfig)
