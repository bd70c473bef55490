"""What the export and verify steps log to MLflow when a tracking URI is set: the float32 and int8
ONNX models as MLflow models (onnx flavour, with their signature) and their sizes; Keras vs
onnxruntime parity and the int8 model's accuracy and agreement."""

from pathlib import Path

from alexnet_kfp.records import ExportRecord, ParityRecord
from alexnet_kfp.tracking import tracked
from alexnet_kfp.tracking.onnx_models import log_onnx_models


def log_export(record: ExportRecord, onnx_dir: Path) -> str | None:
    """The export's figures and both models; the float32 model's `runs:/` URI, or None."""
    with tracked("export") as tracker:
        int8 = record.int8
        tracker.params(
            {
                "opset": record.opset,
                "calibration_images": int8.calibration.images if int8 else 0,
            }
        )
        sizes = {"float32_bytes": record.bytes, **({"int8_bytes": int8.bytes} if int8 else {})}
        tracker.metrics({**sizes, "conversion_seconds": record.conversion_seconds})
        tracker.tags({"onnx_sha256": record.sha256})
        return log_onnx_models(tracker, onnx_dir)


def log_parity(record: ParityRecord, parity_file: Path) -> None:
    """Keras vs onnxruntime, and int8 vs float32, as metrics; parity.json as an artifact."""
    with tracked("verify") as tracker:
        tracker.params({"atol": record.atol, "test_images": record.images})
        tracker.metrics({**record.results(), "verified": float(record.verified)})
        tracker.tags({"verified": str(record.verified).lower(), "parity": record.reason})
        tracker.artifacts(parity_file)
