"""verify(): do Keras and onnxruntime compute the same probabilities on every test image, and is
the int8 model (when the export made one) within its allowed accuracy loss?

Fails (raises ParityError) when the largest |delta probability| exceeds `atol`, or when the two
disagree on a top-1 class although Keras's own top-2 margin was larger than `atol` (a real
difference, not a tie that rounding may break either way), or when model.int8.onnx loses more
test accuracy than `int8_max_loss` (int8_check.py). Writes parity.json either way.
"""

from pathlib import Path

import numpy as np

from alexnet_kfp.artifacts import check_same_classes, dataset_classes_for
from alexnet_kfp.data.npz import load_split
from alexnet_kfp.errors import InputError
from alexnet_kfp.evaluate.report import REPORT, write_run_report
from alexnet_kfp.export import VerifyConfig
from alexnet_kfp.export.int8_check import compare_int8, top2_margins
from alexnet_kfp.export.tracking import log_parity
from alexnet_kfp.files import atomic_output_dir, check_output_dir, file_digest
from alexnet_kfp.inference import FLOAT_FILE, INT8_FILE
from alexnet_kfp.inference.onnx_classifier import OnnxClassifier
from alexnet_kfp.inference.probabilities import predict_keras, predict_onnx
from alexnet_kfp.records import (
    Disagreement,
    ExportRecord,
    Int8Comparison,
    MetricsRecord,
    ParityRecord,
    provenance,
)


class ParityError(RuntimeError):
    """The ONNX model does not compute what the Keras model computes."""


def compare(keras_p: np.ndarray, onnx_p: np.ndarray, atol: float) -> dict:
    delta = np.abs(keras_p - onnx_p)
    margin = top2_margins(keras_p)
    differ = np.flatnonzero(keras_p.argmax(1) != onnx_p.argmax(1))
    disagreements = [
        Disagreement(
            index=int(i),
            keras_class=int(keras_p[i].argmax()),
            onnx_class=int(onnx_p[i].argmax()),
            keras_top2_margin=float(margin[i]),
            tie=bool(margin[i] <= atol),
        )
        for i in differ
    ]
    real = [d for d in disagreements if not d.tie]
    problems = []
    if delta.max() > atol:
        problems.append(f"max |delta p| {delta.max():.3g} > atol {atol:g}")
    if real:
        problems.append(
            f"{len(real)} image(s) get another top-1 class although Keras's margin exceeded atol "
            f"(first: test image {real[0].index})"
        )
    return {
        "images": int(len(keras_p)),
        "atol": atol,
        "max_abs_diff": float(delta.max()),
        "mean_abs_diff": float(delta.mean()),
        "argmax_agreement": float(1 - len(differ) / len(keras_p)),
        "disagreements": disagreements,
        "passed": not problems,
        "reason": "; ".join(problems)
        or f"max |delta p| {delta.max():.3g} <= atol {atol:g}, top-1 identical",
    }


def _int8_path(onnx_dir: Path) -> Path | None:
    """model.int8.onnx if the export made one; a missing file that export.json promises is an
    error."""
    path = onnx_dir / INT8_FILE
    export = ExportRecord.read_if_present(onnx_dir)
    promised = export is not None and export.int8 is not None
    if promised and not path.is_file():
        raise InputError(
            f"{path} not found although {onnx_dir / 'export.json'} records it: export again"
        )
    return path if path.is_file() else None


def verify(
    dataset_dir: str | Path,
    model_dir: str | Path,
    onnx_dir: str | Path,
    config: VerifyConfig | None = None,
    out_dir: str | Path | None = None,
    evaluation_dir: str | Path | None = None,
    **values,
) -> ParityRecord:
    """Compare on the whole test split by `config` (or a VerifyConfig of `values`: verify(...,
    atol=1e-5)); write parity.json into `out_dir` (default: the ONNX dir) and, given the evaluate
    step's directory, the run's report.html beside it (also when the models fail)."""
    config = (config or VerifyConfig(**values)).check()
    atol, int8_max_loss = config.atol, config.int8_max_loss
    onnx_dir = Path(onnx_dir)
    if out_dir is not None:
        check_output_dir(out_dir)  # before the minutes of prediction
    evaluated = None  # the report's half, read before the work too
    if evaluation_dir is not None:
        if not (Path(evaluation_dir) / MetricsRecord.FILE).is_file():
            raise InputError(
                f"{evaluation_dir}: no {MetricsRecord.FILE} in it (expected a directory made by "
                "the evaluate step)"
            )
        evaluated = MetricsRecord.read(evaluation_dir)
    keras_path, onnx_path = Path(model_dir) / "model.keras", onnx_dir / FLOAT_FILE
    for path, made_by in ((keras_path, "train"), (onnx_path, "export")):
        if not path.is_file():
            raise InputError(f"{path} not found: expected a directory made by the {made_by} step")
    int8_path = _int8_path(onnx_dir)
    classes = dataset_classes_for(Path(model_dir), Path(dataset_dir))
    for exported in (onnx_path, int8_path):
        if exported is not None:  # the exported models' own contract and classes, before any work
            check_same_classes(exported, classes, len(OnnxClassifier(exported).class_names))
    x, labels = load_split(Path(dataset_dir), "test", len(classes))
    float_p = predict_onnx(onnx_path, x)
    result = compare(predict_keras(keras_path, x), float_p, atol)
    int8 = None
    if int8_path is not None:  # "passed" and "reason" are Keras vs onnxruntime; int8 has its own
        int8 = Int8Comparison(
            **compare_int8(float_p, predict_onnx(int8_path, x), labels, int8_max_loss),
            sha256=file_digest(int8_path),
        )
    record = ParityRecord(
        **result,
        keras_sha256=file_digest(keras_path),
        onnx_sha256=file_digest(onnx_path),
        int8=int8,
        verified=result["passed"] and (int8 is None or int8.passed),
        versions=provenance(),
    )
    models = (onnx_path, int8_path)

    def write(directory: Path) -> Path:
        if evaluation_dir is not None and evaluated is not None:
            write_run_report(evaluated, Path(evaluation_dir), record, models, directory / REPORT)
        return record.write(directory)

    if out_dir is None:
        written = write(onnx_dir)
    else:
        with atomic_output_dir(out_dir) as staging:
            write(staging)
        written = Path(out_dir) / ParityRecord.FILE
    log_parity(record, written)
    if not record.passed:
        raise ParityError(f"ONNX model {onnx_path} disagrees with {keras_path}: {record.reason}")
    if int8 is not None and not int8.passed:
        raise ParityError(f"int8 model {int8_path} loses too much accuracy: {int8.reason}")
    return record
