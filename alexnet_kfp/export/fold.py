"""Fold the inference BatchNorm that follows each Dense layer into that layer's weights.

Keras's BatchNormalization after a Dense layer reaches ONNX as Gemm -> Mul(scale) -> Add(shift),
and no onnxruntime optimiser folds it (it folds BatchNorm into Conv only). Folded, the graph has
one op per Dense layer instead of three: for float32 two fewer passes over each activation, for
int8 one quantisation step per layer instead of three (docs/benchmarks.md). Exact up to float
rounding, which the parity check measures against Keras like any other difference.
"""

import numpy as np
import onnx
from onnx import numpy_helper


def _consumers(graph: onnx.GraphProto) -> dict[str, list[onnx.NodeProto]]:
    found: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            found.setdefault(name, []).append(node)
    return found


def _vector(initializers: dict, node: onnx.NodeProto, width: int) -> tuple[int, np.ndarray] | None:
    """The constant operand of a two-input Mul/Add, if it is one value per output column."""
    for position, name in enumerate(node.input):
        if name in initializers:
            value = numpy_helper.to_array(initializers[name])
            if value.shape in ((width,), (1, width)):
                return 1 - position, value.reshape(width).astype(np.float64)
    return None


def _plain_gemm(node: onnx.NodeProto) -> bool:
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    return (
        node.op_type == "Gemm"
        and len(node.input) == 3
        and attributes.get("transA", 0) == 0
        and attributes.get("transB", 0) == 0
        and attributes.get("alpha", 1.0) == 1.0
        and attributes.get("beta", 1.0) == 1.0
    )


def fold_dense_batchnorm(model: onnx.ModelProto) -> int:
    """Rewrite every Gemm -> Mul(const) -> Add(const) chain as one Gemm, in place; return how
    many."""
    graph = model.graph
    initializers = {i.name: i for i in graph.initializer}
    outputs = {o.name for o in graph.output}
    consumers = _consumers(graph)
    folded = 0
    for gemm in list(graph.node):
        if (
            not _plain_gemm(gemm)
            or gemm.input[1] not in initializers
            or gemm.input[2] not in initializers
        ):
            continue
        weights = numpy_helper.to_array(initializers[gemm.input[1]])
        bias = numpy_helper.to_array(initializers[gemm.input[2]])
        width = weights.shape[1]
        if bias.shape != (width,) or gemm.output[0] in outputs:
            continue
        chain = consumers.get(gemm.output[0], [])
        if len(chain) != 1 or chain[0].op_type != "Mul" or chain[0].output[0] in outputs:
            continue
        mul = chain[0]
        chain = consumers.get(mul.output[0], [])
        if len(chain) != 1 or chain[0].op_type != "Add":
            continue
        add = chain[0]
        scale, shift = _vector(initializers, mul, width), _vector(initializers, add, width)
        if (
            scale is None
            or shift is None
            or mul.input[scale[0]] != gemm.output[0]
            or add.input[shift[0]] != mul.output[0]
        ):
            continue
        new_weights = (weights.astype(np.float64) * scale[1][None, :]).astype(weights.dtype)
        new_bias = (bias.astype(np.float64) * scale[1] + shift[1]).astype(bias.dtype)
        for index, value in ((1, new_weights), (2, new_bias)):
            name = gemm.input[index]
            if len(consumers[name]) == 1:
                initializers[name].CopyFrom(numpy_helper.from_array(value, name))
            else:  # shared with another node: this Gemm gets its own copy
                gemm.input[index] = f"{name}/folded"
                graph.initializer.append(numpy_helper.from_array(value, gemm.input[index]))
        gemm.output[0] = add.output[0]
        graph.node.remove(mul)
        graph.node.remove(add)
        folded += 1
    _drop_unused_initializers(graph)
    return folded


def _drop_unused_initializers(graph: onnx.GraphProto) -> None:
    used = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
    keep = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
