"""The exported ONNX models as MLflow models (the onnx flavour): loadable with
`mlflow.pyfunc.load_model`, registrable, and, downloaded, an export directory `predict` and
`serve` read as they read the export step's own."""

import shutil
import tempfile
from functools import partial
from pathlib import Path

from alexnet_kfp.tracking.session import Tracker

FLOAT32_MODEL, INT8_MODEL = "onnx_model", "onnx_model_int8"
# What travels beside the float32 model.onnx in its MLflow model: the rest of the export directory.
COMPANIONS = ("model.int8.onnx", "export.json")


def save_mlflow_model(onnx_file: Path, out: Path, companions: tuple[Path, ...] = ()) -> None:
    """`out`: an MLflow model of `onnx_file` with its signature (uint8 `image` [N, 32, 32, 3] ->
    float32 `probabilities` [N, classes]) and its class names, precision and checksum as
    metadata; model.onnx is the exported file byte for byte; `companions` copied beside it."""
    import mlflow.onnx
    import numpy as np
    import onnx
    from mlflow.models import ModelSignature
    from mlflow.types.schema import Schema, TensorSpec

    from alexnet_kfp.files import file_digest
    from alexnet_kfp.untrusted import json_value

    proto = onnx.load(str(onnx_file))
    properties = {p.key: p.value for p in proto.metadata_props}
    class_names = json_value(properties.get("class_names", "[]"), f"{onnx_file}: class_names")
    signature = ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.uint8), (-1, 32, 32, 3), "image")]),
        outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, len(class_names)), "probabilities")]),
    )
    metadata = {
        "class_names": class_names,
        "precision": properties.get("precision", "float32"),
        "sha256": file_digest(onnx_file),
        "input": properties.get("input", ""),
        "output": properties.get("output", ""),
    }
    mlflow.onnx.save_model(
        proto,
        str(out),
        signature=signature,
        metadata=metadata,
        save_as_external_data=False,
        # named, so that MLflow does not infer them from the working directory (a uv project,
        # pip's whole environment: seconds, and what happens to be installed)
        pip_requirements=mlflow.onnx.get_default_pip_requirements(),
    )
    shutil.copyfile(onnx_file, out / "model.onnx")  # the exported bytes, as export.json records
    for companion in companions:
        shutil.copyfile(companion, out / companion.name)


def log_onnx_models(tracker: Tracker, onnx_dir: Path) -> str | None:
    """Log the export directory's float32 model (with its companions) and its int8 model as
    MLflow models; return the float32 model's `runs:/` URI, or None when it was not logged."""
    if not tracker.active:
        tracker.call("the ONNX models", lambda: None)
        return None
    logged = None
    with tempfile.TemporaryDirectory(prefix="alexnet-kfp-mlflow-") as scratch:
        int8 = onnx_dir / COMPANIONS[0]
        for name, onnx_file, companions in (
            (FLOAT32_MODEL, onnx_dir / "model.onnx", COMPANIONS),
            (INT8_MODEL, int8, ()),
        ):
            if not onnx_file.is_file():
                continue
            out = Path(scratch) / name
            present = tuple(onnx_dir / c for c in companions if (onnx_dir / c).is_file())
            saved = tracker.call(f"the model {name}", partial(_saved, onnx_file, out, present))
            uri = tracker.model(out, name) if saved else None
            logged = logged or uri
            shutil.rmtree(out, ignore_errors=True)
    return logged


def _saved(onnx_file: Path, out: Path, companions: tuple[Path, ...]) -> bool:
    save_mlflow_model(onnx_file, out, companions)
    return True
