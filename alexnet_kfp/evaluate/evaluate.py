"""The evaluate step: Dataset + Model directories -> Evaluation directory and the gate decision.

    evaluate(dataset_dir, model_dir, out_dir, min_accuracy, baseline=None, max_regression=0.01)

Writes metrics.json (accuracy, per-class precision/recall/F1/support, confusion matrices, gate),
confusion_matrix.png, confusion_matrix_normalized.png, training_curves.png (when the model has a
history), confident_mistakes.png and report.html. The report is written whether or not the gate
passes; the caller decides what a failed gate means (the CLI exits 3, the pipeline rejects).
With a tracking URI, all of it is logged to MLflow too (tracking.py).
"""

from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
import sklearn
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from alexnet_kfp.artifacts import (
    check_same_classes,
    dataset_classes_for,
    keras_model_path,
)
from alexnet_kfp.data.npz import load_split
from alexnet_kfp.errors import InputError
from alexnet_kfp.evaluate import plots
from alexnet_kfp.evaluate.gate import (
    GateConfig,
    check_accuracy,
    decide,
)
from alexnet_kfp.evaluate.report import PICTURES, REPORT, pictures_in, write_report
from alexnet_kfp.evaluate.tracking import log_evaluation
from alexnet_kfp.files import atomic_output_dir, check_output_dir, file_digest
from alexnet_kfp.inference.probabilities import predict_keras, predict_onnx
from alexnet_kfp.records import (
    RECORD_BYTES,
    ClassMetrics,
    DatasetRecord,
    JudgedModel,
    JudgedOn,
    MetricsRecord,
    RunInfo,
    SweepRecord,
    TrainRecord,
    provenance,
    read_history,
)
from alexnet_kfp.untrusted import json_value, read_file

MISTAKES_SHOWN = 24


def baseline_accuracy(
    baseline: str | Path | None, x: np.ndarray, y: np.ndarray, class_names: list[str]
) -> float | None:
    """Accuracy of the last blessed model: from its metrics.json, or by evaluating its .keras/.onnx
    here (a model of other classes than the data set's is refused)."""
    if baseline is None or str(baseline) == "":
        return None
    path = Path(baseline)
    if path.is_dir():
        found = [
            path / n for n in ("metrics.json", "model.onnx", "model.keras") if (path / n).is_file()
        ]
        if not found:
            raise InputError(f"baseline {path}: holds no metrics.json, model.onnx or model.keras")
        path = found[0]
    if not path.is_file():
        raise InputError(f"baseline {path}: no such file")
    if path.suffix == ".json":
        what = f"baseline {path}"
        try:
            accuracy = json_value(read_file(path, what, RECORD_BYTES), what)["accuracy"]
        except (InputError, KeyError, TypeError) as e:
            raise InputError(f"baseline {path}: not a metrics.json with an 'accuracy' ({e})") from e
        return check_accuracy(accuracy, f"baseline {path}")
    if path.suffix in (".keras", ".onnx"):
        predict = predict_keras if path.suffix == ".keras" else predict_onnx
        probabilities = predict(path, x)
        check_same_classes(f"baseline {path}", class_names, probabilities.shape[1])
        return float((probabilities.argmax(axis=1) == y).mean())
    raise InputError(f"baseline {path}: expected metrics.json, model.keras or model.onnx")


def compute_metrics(y: np.ndarray, probabilities: np.ndarray, class_names: list[str]) -> dict:
    predicted = probabilities.argmax(axis=1)
    labels = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y, predicted, labels=labels, zero_division=0
    )
    counts = confusion_matrix(y, predicted, labels=labels)
    normalized = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    return {
        "accuracy": float((predicted == y).mean()),
        "macro_f1": float(f1.mean()),
        "test_images": int(len(y)),
        "class_names": class_names,
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(class_names)
        },
        "confusion_matrix": counts.tolist(),
        "confusion_matrix_normalized": normalized.round(6).tolist(),
    }


def _pictures(
    out: Path, model_dir: Path, metrics: MetricsRecord, x, y, probabilities
) -> dict[str, Path]:
    """Draw report.PICTURES into `out`; {caption: path} of those drawn."""
    names = metrics.class_names
    history_path = model_dir / "history.json"
    if history_path.is_file():
        plots.training_curves_png(read_history(history_path), out / PICTURES["Training curves"])
    plots.confusion_matrix_png(
        np.array(metrics.confusion_matrix), names, out / PICTURES["Confusion matrix"], False
    )
    plots.confusion_matrix_png(
        np.array(metrics.confusion_matrix_normalized),
        names,
        out / PICTURES["Confusion matrix, normalised"],
        True,
    )
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != y)
    worst = wrong[np.argsort(-probabilities[wrong, predicted[wrong]], kind="stable")][
        :MISTAKES_SHOWN
    ]
    plots.confident_mistakes_png(
        x[worst],
        y[worst],
        predicted[worst],
        probabilities[worst, predicted[worst]],
        names,
        out / PICTURES["Most confident mistakes"],
    )
    return pictures_in(out)


def evaluate(
    dataset_dir: str | Path,
    model_dir: str | Path,
    out_dir: str | Path,
    gate_config: GateConfig | None = None,
    **values,
) -> MetricsRecord:
    """Evaluate the model on the test split, draw, report and decide by `gate_config` (or a
    GateConfig of `values`: evaluate(..., min_accuracy=0.7)); return metrics.json's record."""
    gate_config = (gate_config or GateConfig(**values)).check()
    min_accuracy, max_regression = gate_config.min_accuracy, gate_config.max_regression
    baseline = gate_config.baseline or None
    dataset_dir, model_dir = Path(dataset_dir), Path(model_dir)
    check_output_dir(out_dir)  # before the minutes of prediction
    model_path = model_dir if model_dir.is_file() else keras_model_path(model_dir)
    model_dir = model_path.parent
    class_names = dataset_classes_for(model_dir, dataset_dir)
    dataset = DatasetRecord.read_if_present(dataset_dir)
    trained = TrainRecord.read_if_present(model_dir)
    x, y = load_split(dataset_dir, "test", len(class_names))
    reference = baseline_accuracy(baseline, x, y, class_names)
    probabilities = predict_keras(model_path, x)
    check_same_classes(model_dir, class_names, probabilities.shape[1])
    measured = compute_metrics(y, probabilities, class_names)
    gate = decide(measured["accuracy"], min_accuracy, reference, max_regression)
    variant = trained.variant if trained else "unknown"
    splits = dataset.splits if dataset else {}
    per_class = {name: ClassMetrics(**c) for name, c in measured.pop("per_class").items()}
    record = MetricsRecord(
        **measured,
        per_class=per_class,
        gate=gate,
        model=JudgedModel(str(model_path), file_digest(model_path), variant),
        run=RunInfo(
            variant=variant,
            epochs=trained.epochs_run if trained else None,
            best_epoch=trained.best_epoch if trained else None,
            train_images=splits["train"].count if "train" in splits else None,
            limit_per_class=dataset.parameters.limit_per_class if dataset else None,
            evaluated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        ),
        baseline=None if baseline is None or str(baseline) == "" else str(baseline),
        dataset=JudgedOn(str(dataset_dir), splits["test"].sha256 if "test" in splits else None),
        versions=provenance(keras, sklearn),
        images=dataset.images if dataset else None,
        sweep=SweepRecord.read_if_present(model_dir),
    )
    with atomic_output_dir(out_dir) as staging:
        pictures = _pictures(staging, model_dir, record, x, y, probabilities)
        record.write(staging)
        write_report(record, pictures, staging / REPORT)
    log_evaluation(record, Path(out_dir))
    return record
