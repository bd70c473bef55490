"""The verify component: Keras vs onnxruntime on the whole test split; fails the run on a mismatch."""

from kfp.dsl import Artifact, Dataset, Input, Metrics, Model, Output

from alexnet_kfp.components import component


@component
def verify_op(dataset: Input[Dataset], model: Input[Model], onnx_model: Input[Model], atol: float,
              parity: Output[Metrics], parity_report: Output[Artifact]):
    """Keras vs onnxruntime on the whole test split; fails the run on a mismatch."""
    from alexnet_kfp.process import import_tensorflow, one_line_errors, setup

    setup()
    import_tensorflow()
    from alexnet_kfp.export.parity import ParityError, verify  # after the quiet TensorFlow import

    with one_line_errors("verify", ParityError):
        result = verify(dataset.path, model.path, onnx_model.path, atol=atol, out_dir=parity_report.path)
    for key in ("max_abs_diff", "mean_abs_diff", "argmax_agreement"):
        parity.log_metric(key, result[key])
