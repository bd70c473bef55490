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
SHA256_TAG = "onnx_sha256"  # a logged model's tag: its model.onnx's sha256


def save_mlflow_model(onnx_file: Path, out: Path, companions: tuple[Path, ...] = ()) -> str:
    """`out`: an MLflow model of `onnx_file` with its signature (uint8 `image` [N, 32, 32, 3] ->
    float32 `probabilities` [N, classes]) and its class names, precision and checksum as
    metadata; model.onnx is the exported file byte for byte; `companions` copied beside it.
    Returns that checksum (the file's sha256)."""
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
    return metadata["sha256"]


def log_onnx_models(tracker: Tracker, onnx_dir: Path) -> dict[str, str]:
    """Log the export directory's float32 model (with its companions) and its int8 model as MLflow
    3 logged models of the step's run, tagged with their sha256; return their model ids by name
    (FLOAT32_MODEL, INT8_MODEL), none for a model that was not logged."""
    if not tracker.active:
        tracker.call("the ONNX models", lambda: None)
        return {}
    logged: dict[str, str] = {}
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
            sha256 = tracker.call(
                f"the model {name}", partial(save_mlflow_model, onnx_file, out, present)
            )
            if sha256 is None:  # not saved: the tracker's warning said why, and it has stopped
                continue
            model_id = tracker.call(
                f"the model {name}", partial(_logged, tracker, out, name, sha256)
            )
            if model_id:
                logged[name] = model_id
            shutil.rmtree(out, ignore_errors=True)
    return logged


def _logged(tracker: Tracker, directory: Path, name: str, sha256: str) -> str:
    """The saved MLflow model `directory` as a logged model `name` of the tracker's run, tagged
    with its model.onnx's `sha256` (how the verify step finds it again): its id."""
    from mlflow.entities import LoggedModelOutput

    client = tracker.client()
    tags = {SHA256_TAG: sha256}
    model = client.create_logged_model(
        tracker.experiment_id(), name=name, source_run_id=tracker.run_id, tags=tags,
        model_type="onnx",
    )  # fmt: skip
    try:
        client.log_model_artifacts(model.model_id, str(directory))
    except BaseException:
        client.finalize_logged_model(model.model_id, "FAILED")
        raise
    client.finalize_logged_model(model.model_id, "READY")
    client.log_outputs(tracker.run_id, [LoggedModelOutput(model.model_id, 0)])
    return model.model_id


def logged_models_of(tracker: Tracker, sha256s: dict[str, str]) -> dict[str, str]:
    """The ids of the logged models (by name) whose model.onnx has the sha256 `sha256s` gives for
    that name, in the tracker's experiment: the newest of each, or none when none was logged."""
    found: dict[str, str] = {}
    for name, sha256 in sha256s.items():
        search = partial(_newest_model, tracker, name, sha256)
        model_id = tracker.call(f"the search for {name}", search)
        if model_id:
            found[name] = model_id
    return found


def _newest_model(tracker: Tracker, name: str, sha256: str) -> str | None:
    models = tracker.client().search_logged_models(
        [tracker.experiment_id()],
        filter_string=f"name = '{name}' AND tags.{SHA256_TAG} = '{sha256}'",
        order_by=[{"field_name": "creation_timestamp", "ascending": False}],
        max_results=1,
    )
    return models[0].model_id if models else None


def model_uri(model_id: str) -> str:
    return f"models:/{model_id}"
