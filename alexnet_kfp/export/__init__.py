"""The export step: Keras -> ONNX, and the Keras-vs-onnxruntime parity check. Its defaults live
here, free of TensorFlow, so the pipeline definition and the CLI read them cheaply."""

from alexnet_kfp.errors import InputError

DEFAULT_OPSET = 17
OPSETS = range(13, 19)  # the opsets tf2onnx 1.17 supports (onnxruntime 1.31 runs them all)
DEFAULT_ATOL = 1e-4  # largest allowed |delta probability| between Keras and onnxruntime
DEFAULT_INT8_MAX_LOSS = 0.01  # largest allowed test-accuracy loss of model.int8.onnx (1.0 point)
# training images that calibrate model.int8.onnx (bench/int8_choices.py)
DEFAULT_CALIBRATION_IMAGES = 512


def check_opset(opset: int) -> None:
    if opset not in OPSETS:
        raise InputError(
            f"opset must lie between {OPSETS.start} and {OPSETS.stop - 1}, got {opset}"
        )


def check_atol(atol: float) -> None:
    if not 0.0 < atol < 1.0:  # also refuses NaN
        raise InputError(f"atol must lie strictly between 0 and 1, got {atol}")


def check_int8_max_loss(max_loss: float) -> None:
    if not 0.0 <= max_loss <= 1.0:  # also refuses NaN
        raise InputError(
            "int8_max_loss must lie between 0 and 1 (a fraction: 0.01 is one point), got "
            f"{max_loss}"
        )
