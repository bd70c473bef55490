"""The verify component: Keras vs onnxruntime on the whole test split, and the int8 model's accuracy
against the float32 model's; fails the run on a mismatch or too large a loss."""

from kfp.dsl import HTML, Artifact, Dataset, Input, Metrics, Model, Output

from alexnet_kfp.components import component


@component
def verify_op(
    dataset: Input[Dataset],
    model: Input[Model],
    onnx_model: Input[Model],
    evaluation: Input[Artifact],
    atol: float,
    int8_max_loss: float,
    parity: Output[Metrics],
    parity_report: Output[Artifact],
    report: Output[HTML],
):
    """Keras vs onnxruntime on the whole test split, and int8 vs float32 accuracy; fails the run on
    a mismatch or when int8 loses more than int8_max_loss (0.01 = one point). `report` is the
    run's report: the evaluation's with the ONNX models' results. Every argument but the
    artifacts is a VerifyConfig field of the same name."""
    inputs = list(locals())  # the task's inputs' names, first, while they are all there is
    import os
    import shutil

    from alexnet_kfp.export import VerifyConfig
    from alexnet_kfp.process import one_line_errors, setup
    from alexnet_kfp.progress import finished
    from alexnet_kfp.tracking.environment import kfp_logs_inputs

    setup("verify", tensorflow=True)
    kfp_logs_inputs(inputs)  # KFP's MLflow plugin logs them; the step logs the rest
    from alexnet_kfp.export.parity import ParityError, verify  # after the quiet TensorFlow import

    try:
        with one_line_errors("verify", ParityError):
            config = VerifyConfig(atol=atol, int8_max_loss=int8_max_loss)
            result = verify(
                dataset.path,
                model.path,
                onnx_model.path,
                config,
                out_dir=parity_report.path,
                evaluation_dir=evaluation.path,
            )
    finally:  # the report says why when the models fail
        written = f"{parity_report.path}/report.html"
        if os.path.isfile(written):
            shutil.copyfile(written, report.path)
    for name, value in result.results().items():
        parity.log_metric(name, value)
    finished("verify", parity_report=parity_report.path, report=report.path)
