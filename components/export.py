"""The export component: Model artifact -> ONNX Model artifact (model.onnx, export.json)."""

from kfp.dsl import Artifact, Input, Model, Output

from alexnet_kfp.components import component


@component
def export_op(model: Input[Model], evaluation: Input[Artifact], onnx_model: Output[Model]):
    """Keras -> ONNX; the artifact is the directory (model.onnx, export.json)."""
    from alexnet_kfp.process import import_tensorflow, one_line_errors, setup

    setup()
    import_tensorflow()
    from alexnet_kfp.export.onnx_export import export  # after the quiet TensorFlow import

    with one_line_errors("export"):
        info = export(model.path, onnx_model.path, metrics_path=f"{evaluation.path}/metrics.json")
    onnx_model.metadata.update({"framework": "onnx", "opset": info["opset"], "sha256": info["sha256"]})
