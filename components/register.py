"""The register component (when `register_as` names a model): the verified ONNX model registered in
MLflow's model registry as a new version with its provenance, and an alias pointed at it."""

from kfp.dsl import Artifact, Dataset, Input, Model, Output

from alexnet_kfp.components import component


@component
def register_op(
    onnx_model: Input[Model],
    model_repository: Input[Model],
    evaluation: Input[Artifact],
    parity_report: Input[Artifact],
    dataset: Input[Dataset],
    mlflow_model: str,
    name: str,
    alias: str,
    kfp_run_id: str,
    registration: Output[Artifact],
):
    """Register the float32 ONNX model (`mlflow_model`: the `models:/` URI of the logged model
    the export step made, else it is logged here) as a new version of `name`, its Triton
    `model_repository` logged beside it (what `alexnet-kfp manifest --model` deploys), tagged
    with the test accuracy, parity, the Dataset's checksum, `kfp_run_id` and the project's
    version, and point `alias` at it. A model the gate did not pass or verify did not verify is
    refused. A tracker that is down or missing leaves one warning line and nothing registered,
    not a failed run."""
    from dataclasses import asdict
    from pathlib import Path

    from alexnet_kfp.process import one_line_errors, setup
    from alexnet_kfp.progress import finished, tell
    from alexnet_kfp.records import RegistrationRecord
    from alexnet_kfp.tracking.registry import register, registration_tags

    setup("register")
    with one_line_errors("register"):
        tags = registration_tags(
            Path(evaluation.path), Path(parity_report.path), Path(dataset.path), kfp_run_id
        )
        registered = register(
            Path(onnx_model.path),
            name,
            alias,
            tags,
            mlflow_model,
            Path(model_repository.path),
        )
    record = RegistrationRecord(
        registered=registered is not None, **(asdict(registered) if registered else {}), tags=tags
    )
    record.write_file(registration.path)
    registration.metadata.update({k: v for k, v in record.to_dict().items() if k != "tags"})
    tell(
        "register",
        f"register: {registered.uri} ({registered.alias or 'a trial model: no alias'})"
        if registered
        else f"register: {name} not registered (see the warning above)",
    )
    finished("register", registration=registration.path)
