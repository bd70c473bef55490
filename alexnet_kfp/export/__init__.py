"""The export step: Keras -> ONNX, and the Keras-vs-onnxruntime parity check. Its defaults live
here, free of TensorFlow, so the pipeline definition and the CLI read them cheaply."""

from dataclasses import dataclass

from alexnet_kfp.config import StepConfig, option
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


def check_calibration_images(count: int) -> None:
    if count < 1:
        raise InputError(f"int8 calibration_images must be at least 1, got {count}")


def check_int8_max_loss(max_loss: float) -> None:
    if not 0.0 <= max_loss <= 1.0:  # also refuses NaN
        raise InputError(
            "int8_max_loss must lie between 0 and 1 (a fraction: 0.01 is one point), got "
            f"{max_loss}"
        )


@dataclass
class ExportConfig(StepConfig):
    """How the export step converts: the opset, and the int8 model's calibration."""

    opset: int = option(DEFAULT_OPSET, f"ONNX opset ({OPSETS.start} to {OPSETS.stop - 1})")
    calibration_images: int = option(
        DEFAULT_CALIBRATION_IMAGES, "training images that calibrate the int8 model", metavar="N"
    )

    def check(self) -> "ExportConfig":
        check_opset(self.opset)
        check_calibration_images(self.calibration_images)
        return self


@dataclass
class VerifyConfig(StepConfig):
    """What the verify step allows: Keras vs onnxruntime, and int8 vs float32."""

    atol: float = option(
        DEFAULT_ATOL, "largest probability difference allowed, Keras vs onnxruntime", metavar="F"
    )
    int8_max_loss: float = option(
        DEFAULT_INT8_MAX_LOSS,
        "most test accuracy (a fraction: 0.01 is one point) the int8 model may lose against "
        "float32",
        metavar="F",
    )

    def check(self) -> "VerifyConfig":
        check_atol(self.atol)
        check_int8_max_loss(self.int8_max_loss)
        return self
