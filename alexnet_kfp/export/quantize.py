"""model.onnx -> model.int8.onnx with onnxruntime's own static quantisation, calibrated on images
of the training split (never the test split, which judges the result).

The default recipe (`Int8Recipe()`) is the one bench/int8_choices.py measured best;
docs/benchmarks.md's "int8 choices" table has every choice tried. Nothing here is a hand-written
quantiser: this module chooses onnxruntime's options and feeds it calibration images. The float
model it starts from has each Dense layer's BatchNorm already folded into the layer (fold.py), so
that each Dense output is quantised once.
"""

import contextlib
import logging
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quant_pre_process,
    quantize_static,
)

from alexnet_kfp.errors import InputError
from alexnet_kfp.export import DEFAULT_CALIBRATION_IMAGES, check_calibration_images

QUANT_TYPES = {"u8": QuantType.QUInt8, "s8": QuantType.QInt8}
CALIBRATION_METHODS = {
    "minmax": CalibrationMethod.MinMax,
    "entropy": CalibrationMethod.Entropy,
    "percentile": CalibrationMethod.Percentile,
}
FORMATS = {"qdq": QuantFormat.QDQ, "qoperator": QuantFormat.QOperator}
# The op types quantised when present: the layers (Conv, Gemm, MatMul), and the ops between them
# that int8 tensors pass through without leaving int8.
QUANTIZABLE = ("Conv", "Gemm", "MatMul", "MaxPool", "Relu", "Mul", "Add", "Reshape", "Transpose")
CALIBRATION_BATCH = 64
CALIBRATION_SEED = 0  # which training images calibrate; recorded with the model


@dataclass(frozen=True)
class Int8Recipe:
    """How the int8 model is made; recorded in its metadata and in export.json."""

    format: str = "qdq"  # qdq: QuantizeLinear/DequantizeLinear pairs; qoperator: QLinearConv etc.
    per_channel: bool = True  # one weight scale per output channel
    activations: str = "u8"
    weights: str = "s8"
    calibration: str = "minmax"
    # percentile calibration: the share of each tensor's values inside its range
    percentile: float = 99.999
    # minmax calibration: average the batches' ranges instead of their extremes
    moving_average: bool = True
    # from the training split, about as many of each class
    calibration_images: int = DEFAULT_CALIBRATION_IMAGES
    # onnxruntime's quant_pre_process: changed nothing here (needs sympy, a dev extra)
    preprocess: bool = False
    # the ops before the first Conv (x/255, mean, std) stay float32
    float_input_scaling: bool = True
    # op types ("Gemm") or Keras layer names ("conv1") left in float32
    keep_float: tuple[str, ...] = ()

    def check(self) -> None:
        for name, allowed in (
            ("format", FORMATS),
            ("activations", QUANT_TYPES),
            ("weights", QUANT_TYPES),
            ("calibration", CALIBRATION_METHODS),
        ):
            if getattr(self, name) not in allowed:
                raise InputError(
                    f"int8 {name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}"
                )
        check_calibration_images(self.calibration_images)


class _Batches(CalibrationDataReader):
    """The calibration images, fed to onnxruntime's calibrator in batches."""

    def __init__(self, images: np.ndarray, input_name: str):
        self.images, self.input_name, self.position = images, input_name, 0

    def get_next(self):
        if self.position >= len(self.images):
            return None
        batch = self.images[self.position : self.position + CALIBRATION_BATCH]
        self.position += CALIBRATION_BATCH
        return {self.input_name: batch}

    def rewind(self):
        self.position = 0


def calibration_sample(
    x: np.ndarray, y: np.ndarray, count: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """`count` images of the training split, nearly the same number of each class
    (ceil(count/classes) of each, then `count` of those at random), chosen by `seed`; returns the
    images and their indices (recorded, so the calibration can be repeated)."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    per_class = -(-count // len(classes))
    chosen = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class] for c in classes])
    chosen = np.sort(rng.permutation(chosen)[:count])
    return x[chosen], chosen


def quantize(
    float_path: Path, out_path: Path, images: np.ndarray, recipe: Int8Recipe = Int8Recipe()
) -> dict:
    """Write the int8 model; return what was quantised and how (for the metadata and
    export.json)."""
    recipe.check()
    started = time.perf_counter()
    input_name = onnx.load(float_path, load_external_data=False).graph.input[0].name
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(float_path)
        if recipe.preprocess:
            source = Path(scratch) / "preprocessed.onnx"
            quant_pre_process(str(float_path), str(source))
        graph = onnx.load(source).graph
        float_ops = {node.op_type for node in graph.node}
        excluded = [
            node.name
            for node in graph.node
            if any(
                f"/{layer}_" in node.name for layer in recipe.keep_float if layer not in float_ops
            )
        ]
        if recipe.float_input_scaling:
            excluded += _before_first_conv(graph)
        with _without_preprocessing_advice():
            quantize_static(
                str(source),
                str(out_path),
                _Batches(images, input_name),
                quant_format=FORMATS[recipe.format],
                per_channel=recipe.per_channel,
                activation_type=QUANT_TYPES[recipe.activations],
                weight_type=QUANT_TYPES[recipe.weights],
                calibrate_method=CALIBRATION_METHODS[recipe.calibration],
                op_types_to_quantize=[
                    op for op in QUANTIZABLE if op in float_ops and op not in recipe.keep_float
                ],
                nodes_to_exclude=excluded,
                extra_options={
                    "ActivationSymmetric": False,
                    "WeightSymmetric": True,
                    "CalibPercentile": recipe.percentile,
                    "CalibMovingAverage": recipe.moving_average,
                },
            )
    quantized = onnx.load(out_path)
    return {
        "recipe": asdict(recipe),
        "quantized_op_types": _quantized_op_types(quantized),
        "quantization_seconds": round(time.perf_counter() - started, 1),
    }


@contextlib.contextmanager
def _without_preprocessing_advice():
    """quantize_static logs advice to run quant_pre_process whenever it was not run; measured, it
    changes nothing for this model (bench/int8_choices.py), so the advice is noise in the step's
    log."""

    def keep(record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Please consider pre-processing before quantization")

    root = logging.getLogger()
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)


def _before_first_conv(graph: onnx.GraphProto) -> list[str]:
    """The input's scaling and normalisation: elementwise ops whose int8 kernels (QLinearAdd/Mul
    with a per-channel operand) cost more than the float ones, and which feed the Conv a float
    input."""
    names: list[str] = []
    for node in graph.node:  # ONNX keeps nodes in topological order
        if node.op_type == "Conv":
            return names
        names.append(node.name)
    return []


def _quantized_op_types(model: onnx.ModelProto) -> dict[str, int]:
    """The layers that now hold int8 weights, by op type: QLinear*/QGemm ops (QOperator format),
    or ops fed by a DequantizeLinear of a stored tensor (QDQ format, which onnxruntime fuses)."""
    stored = {i.name for i in model.graph.initializer}
    int8_weights = {
        n.output[0]
        for n in model.graph.node
        if n.op_type == "DequantizeLinear" and n.input[0] in stored
    }
    counts: dict[str, int] = {}
    for node in model.graph.node:
        qoperator = node.op_type.startswith("QLinear") or node.op_type in ("QGemm", "QAttention")
        holds_weights = qoperator and any(i in stored for i in node.input)
        if holds_weights or any(i in int8_weights for i in node.input):
            counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return dict(sorted(counts.items()))
