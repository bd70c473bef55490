"""The common request answered without KServe's generic decoding, over gRPC and REST: one `image`
tensor of raw UINT8 pixels [N, 32, 32, 3] for one of our models, with no parameters (but REST's
`binary_data_output`), asking for `probabilities` or for nothing in particular.

KServe 0.21 turns such a tensor's bytes into a Python list of ints and back, and wraps the request
and the answer in its own types: most of a small request's cost (docs/benchmarks.md). Here the
bytes are read as they are, queued on the model's batcher, and answered with the message KServe
would build. Anything else (other inputs, parameters, the classification extension, bytes that do
not fill the shape) is not recognised here and takes KServe's path, which checks it and names
what is wrong. Both paths record KServe's latency histograms.
"""

import asyncio
import math
import re
import time
import uuid
from dataclasses import dataclass
from typing import cast

import numpy as np
import orjson
from kserve.metrics import POST_HIST_TIME, PRE_HIST_TIME, PREDICT_HIST_TIME, get_labels
from kserve.protocol.grpc import grpc_predict_v2_pb2 as pb

from alexnet_kfp.inference.onnx_classifier import SIZE
from alexnet_kfp.serve.guards import read_body, replaying
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
    started = time.perf_counter()
    images = grpc_pixels(request)
    if images is None:
        return None
    rows = await _timed_rows(model, images, started)
    with POST_HIST_TIME.labels(**get_labels(model.name)).time():
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


async def _timed_rows(model: AlexNetModel, images: np.ndarray, started: float) -> np.ndarray:
    """The model's rows for `images` from its batcher, with KServe's pre-process (reading the
    request, since `started`) and predict latencies recorded, as its own path records them."""
    labels = get_labels(model.name)
    PRE_HIST_TIME.labels(**labels).observe(time.perf_counter() - started)
    with PREDICT_HIST_TIME.labels(**labels).time():
        return await model.batcher.queue(images)


# REST: the request's JSON (or a binary request's JSON header) may hold these and nothing else
_REQUEST_KEYS = {"id", "inputs", "outputs", "parameters"}
_OUTPUTS = ([{"name": OUTPUT_NAME}], [{"name": OUTPUT_NAME, "parameters": {"binary_data": True}}],
            [{"name": OUTPUT_NAME, "parameters": {"binary_data": False}}])  # fmt: skip
_INFER_PATH = re.compile(r"^/v2/models/([^/]+)/infer$")
# JSON bodies up to this size (about 20 images' numbers) are read on the event loop; larger ones
# in a worker thread, so that health and metrics answer meanwhile (a binary body costs nothing)
_INLINE_JSON_BYTES = 256 * 1024


@dataclass
class RestRequest:
    """A plain REST request: its images, its id ("": none given) and whether it asked for binary
    outputs (the request's `binary_data_output`; KServe 0.21 ignores an output's own
    `binary_data` for this model)."""

    images: np.ndarray
    id: str
    binary_output: bool


def rest_request(body: bytes, header_length: int | None) -> RestRequest | None:
    """A plain REST request (JSON; or, with `header_length`, the binary extension's JSON header and
    raw pixels), or None for any other request."""
    try:
        request = orjson.loads(body if header_length is None else body[:header_length])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(request, dict) or not request.keys() <= _REQUEST_KEYS:
        return None
    request_id = request.get("id", "")
    parameters = request.get("parameters", {})
    if type(request_id) is not str or request.get("outputs", _OUTPUTS[0]) not in _OUTPUTS:
        return None
    if not isinstance(parameters, dict) or not parameters.keys() <= {"binary_data_output"}:
        return None
    binary_output = parameters.get("binary_data_output", False)
    inputs = request.get("inputs")
    if type(binary_output) is not bool or not isinstance(inputs, list) or len(inputs) != 1:
        return None
    tensor = inputs[0]
    if not isinstance(tensor, dict) or tensor.get("name") != INPUT_NAME:
        return None
    shape = tensor.get("shape")
    if tensor.get("datatype") != "UINT8" or not _whole_numbers(shape):
        return None
    shape = cast(list[int], shape)
    if header_length is None:
        images = _json_pixels(shape, tensor)
    elif tensor.keys() == {"name", "shape", "datatype", "parameters"} and tensor["parameters"] == {
        "binary_data_size": len(body) - header_length
    }:
        images = _pixels(shape, body[header_length:])
    else:
        return None
    return None if images is None else RestRequest(images, request_id, binary_output)


def _whole_numbers(values) -> bool:
    return isinstance(values, list) and all(type(v) is int for v in values)


def _json_pixels(shape: list[int], tensor: dict) -> np.ndarray | None:
    """A JSON tensor's flat list of whole numbers 0-255 as images of `shape`, or None."""
    data = tensor.get("data")
    if tensor.keys() != {"name", "shape", "datatype", "data"} or not isinstance(data, list):
        return None
    if len(shape) != 4 or len(data) != math.prod(shape) or set(map(type, data)) != {int}:
        return None
    values = np.array(data)
    if values.dtype != np.int64 or values.min() < 0 or values.max() > 255:
        return None
    return _pixels(shape, values.astype(np.uint8).tobytes())


def rest_answer(model_name: str, request: RestRequest, rows: np.ndarray) -> tuple[list, bytes]:
    """(headers, body) of KServe 0.21's answer: JSON, or with `binary_output` a JSON header and the
    raw FP32 rows (the binary extension)."""
    request_id = request.id or str(uuid.uuid4())
    if request.binary_output:
        header = orjson.dumps({
            "id": request_id, "model_name": model_name, "model_version": None,
            "outputs": [{"name": OUTPUT_NAME, "shape": list(rows.shape), "datatype": "FP32",
                         "parameters": {"binary_data_size": rows.nbytes}}],
        })  # fmt: skip
        return [(b"inference-header-content-length", str(len(header)).encode())], header + (
            rows.tobytes()
        )
    body = orjson.dumps({
        "model_name": model_name, "model_version": None, "id": request_id, "parameters": None,
        "outputs": [{"name": OUTPUT_NAME, "shape": list(rows.shape), "datatype": "FP32",
                     "parameters": None, "data": rows.reshape(-1).tolist()}],
    })  # fmt: skip
    return [(b"content-type", b"application/json")], body


class PlainPixelsOverRest:
    """ASGI middleware: a POST to /v2/models/NAME/infer that is a plain pixel request for one of
    `models` (not a trial: its note has its own place in KServe's answer) is answered here; any
    other request goes on to KServe's app with its body as it came. Placed inside BodyLimit and
    CheckedBinaryRequests: the body is bounded, and a binary request well formed."""

    def __init__(self, app, models: dict[str, AlexNetModel]):
        self.app = app
        self.models = {name: m for name, m in models.items() if not m.trial_note()}

    async def __call__(self, scope, receive, send):
        found = _INFER_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        model = self.models.get(found[1]) if found and scope.get("method") == "POST" else None
        if model is None or not model.ready:
            return await self.app(scope, receive, send)
        messages, body = await read_body(receive)
        if messages is None:  # the client went away
            return None
        length = dict(scope["headers"]).get(b"inference-header-content-length")
        started = time.perf_counter()
        header_length = None if length is None else int(length)
        if header_length is None and len(body) > _INLINE_JSON_BYTES:  # off the event loop
            request = await asyncio.get_running_loop().run_in_executor(
                None, rest_request, body, header_length
            )
        else:
            request = rest_request(body, header_length)
        if request is None:
            return await self.app(scope, replaying(messages, receive), send)
        rows = await _timed_rows(model, request.images, started)
        with POST_HIST_TIME.labels(**get_labels(model.name)).time():
            headers, answer = rest_answer(model.name, request, rows)
        headers.append((b"content-length", str(len(answer)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})
        return None
