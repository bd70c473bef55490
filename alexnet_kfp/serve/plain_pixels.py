"""The common request answered without KServe's generic decoding: one `image` tensor of raw UINT8
pixels [N, 32, 32, 3] for one of our models, with no parameters, asking for `probabilities` or for
nothing in particular.

KServe 0.21 turns such a tensor's bytes into a Python list of ints and back, and wraps the request
and the answer in its own types: most of a small request's cost (docs/benchmarks.md). Here the
bytes are read as they are, queued on the model's batcher, and answered with the message KServe
would build. Anything else (other inputs, parameters, the classification extension, bytes that do
not fill the shape) is not recognised here and takes KServe's path, which checks it and names
what is wrong. Both paths record KServe's latency histograms.
"""

import time
import uuid

import numpy as np
from kserve.metrics import POST_HIST_TIME, PRE_HIST_TIME, PREDICT_HIST_TIME, get_labels
from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb

from alexnet_kfp.inference.onnx_classifier import SIZE
from alexnet_kfp.serve.kserve_model import INPUT_NAME, OUTPUT_NAME, AlexNetModel
from alexnet_kfp.serve.limits import MAX_IMAGES

IMAGE_BYTES = SIZE * SIZE * 3


def grpc_pixels(request: pb.ModelInferRequest) -> np.ndarray | None:
    """The images of a plain pixel request (read-only, no copy), or None for any other request."""
    if (
        request.model_version
        or request.parameters
        or len(request.inputs) != 1
        or len(request.raw_input_contents) != 1
    ):
        return None
    tensor = request.inputs[0]
    if (
        tensor.name != INPUT_NAME
        or tensor.datatype != "UINT8"
        or tensor.parameters
        or tensor.HasField("contents")
    ):
        return None
    outputs = request.outputs
    if len(outputs) > 1 or (outputs and (outputs[0].name != OUTPUT_NAME or outputs[0].parameters)):
        return None
    return _pixels(list(tensor.shape), request.raw_input_contents[0])


def _pixels(shape: list[int], raw: bytes) -> np.ndarray | None:
    """`raw` as images of `shape`, if it is [N, 32, 32, 3] (N within the limit) and `raw` fills it
    exactly."""
    if len(shape) != 4 or shape[1:] != [SIZE, SIZE, 3] or not 1 <= shape[0] <= MAX_IMAGES:
        return None
    if len(raw) != shape[0] * IMAGE_BYTES:
        return None
    return np.frombuffer(raw, dtype=np.uint8).reshape(shape)


async def answer_grpc(
    model: AlexNetModel, request: pb.ModelInferRequest
) -> pb.ModelInferResponse | None:
    """The answer to a plain pixel request for `model`, as KServe's servicer would give it (raw
    FP32 output with its binary_data_size, the request's id or a new one, a trial model's note);
    None: not a plain one."""
    labels = get_labels(model.name)
    started = time.perf_counter()
    images = grpc_pixels(request)
    if images is None:
        return None
    PRE_HIST_TIME.labels(**labels).observe(time.perf_counter() - started)
    with PREDICT_HIST_TIME.labels(**labels).time():
        rows = await model.batcher.queue(images)
    with POST_HIST_TIME.labels(**labels).time():
        trial = model.trial_note()
        return pb.ModelInferResponse(
            model_name=model.name,
            id=request.id or str(uuid.uuid4()),
            outputs=[
                pb.ModelInferResponse.InferOutputTensor(
                    name=OUTPUT_NAME,
                    datatype="FP32",
                    shape=rows.shape,
                    parameters={"binary_data_size": pb.InferParameter(int64_param=rows.nbytes)},
                )
            ],
            raw_output_contents=[rows.tobytes()],
            parameters={k: pb.InferParameter(string_param=v) for k, v in trial.items()} or None,
        )
