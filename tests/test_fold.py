"""fold_dense_batchnorm on small hand-built graphs, run by onnxruntime before and after: the fold
keeps the numbers and leaves alone what it must not touch."""

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from alexnet_kfp.export.fold import fold_dense_batchnorm

pytestmark = pytest.mark.unit

RNG = np.random.default_rng(0)


def _graph(extra_consumer: bool = False) -> onnx.ModelProto:
    """x -> Gemm(W, b) -> Mul(scale) -> Add(shift) -> Relu -> y, optionally with the Gemm's output
    also read by a second branch (then folding would change that branch, so it must not happen)."""
    tensors = {
        "W": RNG.normal(size=(6, 4)),
        "b": RNG.normal(size=4),
        "scale": RNG.normal(size=4),
        "shift": RNG.normal(size=4),
    }
    nodes = [
        helper.make_node("Gemm", ["x", "W", "b"], ["dense"]),
        helper.make_node("Mul", ["dense", "scale"], ["scaled"]),
        helper.make_node("Add", ["scaled", "shift"], ["shifted"]),
        helper.make_node("Relu", ["shifted"], ["y"]),
    ]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])]
    if extra_consumer:
        nodes.append(helper.make_node("Neg", ["dense"], ["z"]))
        outputs.append(helper.make_tensor_value_info("z", TensorProto.FLOAT, [None, 4]))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 6])],
        outputs,
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in tensors.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)


def _run(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {"x": x})


def test_the_chain_becomes_one_gemm_with_the_same_outputs():
    model, x = _graph(), RNG.normal(size=(5, 6)).astype(np.float32)
    before = _run(model, x)
    assert fold_dense_batchnorm(model) == 1
    onnx.checker.check_model(model, full_check=True)
    assert [n.op_type for n in model.graph.node] == ["Gemm", "Relu"]
    assert {i.name for i in model.graph.initializer} == {"W", "b"}
    np.testing.assert_allclose(_run(model, x)[0], before[0], rtol=1e-5, atol=1e-6)


def test_a_gemm_output_read_elsewhere_is_left_alone():
    model = _graph(extra_consumer=True)
    assert fold_dense_batchnorm(model) == 0
    assert [n.op_type for n in model.graph.node] == ["Gemm", "Mul", "Add", "Relu", "Neg"]
