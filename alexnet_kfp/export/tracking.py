"""What the export and verify steps log to MLflow when a tracking URI is set: the float32 and int8
ONNX models as MLflow 3 logged models (onnx flavour, with their signature), linked to their sizes,
the judged test accuracy, Keras vs onnxruntime parity and the int8 model's accuracy and agreement;
the same headline figures on the pipeline's run."""

from pathlib import Path

from alexnet_kfp.records import ExportRecord, MetricsRecord, ParityRecord
from alexnet_kfp.tracking import tracked
from alexnet_kfp.tracking.onnx_models import (
    FLOAT32_MODEL,
    INT8_MODEL,
    log_onnx_models,
    logged_models_of,
    model_uri,
)


def log_export(record: ExportRecord, onnx_dir: Path, metrics: MetricsRecord | None) -> str | None:
    """The export's figures and both models; the float32 logged model's `models:/` URI, or
    None when it was not logged."""
    with tracked("export") as tracker:
        int8 = record.int8
        tracker.params(
            {
                "opset": record.opset,
                "calibration_images": int8.calibration.images if int8 else 0,
            }
        )
        tracker.metrics({"conversion_seconds": record.conversion_seconds})
        tracker.tags({"onnx_sha256": record.sha256})
        logged = log_onnx_models(tracker, onnx_dir)
        float32 = logged.get(FLOAT32_MODEL)
        size = {"float32_bytes": record.bytes}
        judged = {}
        if metrics is not None:  # the figures the model was judged by, on the model's page too
            judged = {"test_accuracy": metrics.accuracy, "macro_f1": metrics.macro_f1}
        tracker.metrics({**size, **judged}, model_id=float32)
        tracker.headline(size, None, float32)
        if int8 is not None:
            tracker.metrics({"int8_bytes": int8.bytes}, model_id=logged.get(INT8_MODEL))
            tracker.headline({"int8_bytes": int8.bytes}, None, logged.get(INT8_MODEL))
        return model_uri(float32) if float32 else None


def log_parity(record: ParityRecord, parity_file: Path) -> None:
    """Keras vs onnxruntime, and int8 vs float32, as metrics of the run and of the logged model
    each is about; parity.json as an artifact."""
    with tracked("verify") as tracker:
        tracker.params({"atol": record.atol, "test_images": record.images})
        int8 = record.int8
        hashes = {FLOAT32_MODEL: record.onnx_sha256, **({INT8_MODEL: int8.sha256} if int8 else {})}
        models = logged_models_of(tracker, hashes) if tracker.active else {}
        float32_figures = {
            "max_abs_diff": record.max_abs_diff,
            "mean_abs_diff": record.mean_abs_diff,
            "argmax_agreement": record.argmax_agreement,
            "verified": float(record.verified),
        }
        tracker.metrics(float32_figures, model_id=models.get(FLOAT32_MODEL))
        headline = {
            "parity_max_abs_diff": record.max_abs_diff,
            "parity_top1_agreement": record.argmax_agreement,
        }
        verified = {"verified": str(record.verified).lower()}
        tracker.headline(headline, verified, models.get(FLOAT32_MODEL))
        if int8 is not None:
            int8_figures = {k: v for k, v in record.results().items() if k not in float32_figures}
            tracker.metrics(int8_figures, model_id=models.get(INT8_MODEL))
            tracker.headline(
                {"int8_accuracy": int8.int8_accuracy, "int8_top1_agreement": int8.top1_agreement},
                None,
                models.get(INT8_MODEL),
            )
        tracker.tags({**verified, "parity": record.reason})
        tracker.artifacts(parity_file)
