"""The export component: Model artifact -> ONNX Model artifact (model.onnx, model.int8.onnx,
export.json) and the same models as a Triton model repository artifact (what KServe serves)."""

from kfp.dsl import Artifact, Dataset, Input, Model, Output

from alexnet_kfp.components import component


@component
def export_op(
    model: Input[Model],
    evaluation: Input[Artifact],
    dataset: Input[Dataset],
    onnx_model: Output[Model],
    model_repository: Output[Model],
) -> str:
    """Keras -> ONNX, float32 and int8 (calibrated on the Dataset's training split); the artifact is
    the directory (model.onnx, model.int8.onnx, export.json); model_repository lays them out for
    Triton. Returns the float32 model's MLflow 3 logged model (`models:/` URI) when a tracking
    URI is set (empty otherwise), for the register step."""
    from alexnet_kfp.process import one_line_errors, setup
    from alexnet_kfp.progress import finished

    setup("export", tensorflow=True)
    from alexnet_kfp.export.model_repository import write_model_repository
    from alexnet_kfp.export.onnx_export import export  # after the quiet TensorFlow import

    with one_line_errors("export"):
        exported = export(
            model.path,
            onnx_model.path,
            metrics_path=f"{evaluation.path}/metrics.json",
            dataset_dir=dataset.path,
        )
        models = write_model_repository(onnx_model.path, model_repository.path)
    onnx_model.metadata.update(
        {
            "framework": "onnx",
            "opset": exported.record.opset,
            "sha256": exported.record.sha256,
            "int8_sha256": exported.record.int8.sha256 if exported.record.int8 else "",
        }
    )
    model_repository.metadata.update({"framework": "triton", "models": sorted(models)})
    finished("export", onnx_model=onnx_model.path, model_repository=model_repository.path)
    return exported.mlflow_model
