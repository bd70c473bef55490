"""An exported model as a KServe model: the Open Inference Protocol (v2, REST and gRPC) and KServe's
v1 REST protocol, on onnxruntime through OnnxClassifier. Needs the `serve` extra (kserve).

Inputs, as Triton serving the model repository accepts them, plus encoded image files:
- v2 `image` UINT8 [N, 32, 32, 3]: raw RGB pixels, the model's own input;
- v2 `image` BYTES [N]: encoded image files (PNG, JPEG, ...), as raw bytes (gRPC) or base64 text
  (REST JSON; KServe 0.21 cannot take raw image bytes over REST's binary extension:
  docs/serving.md). Any size: resized as `alexnet-kfp predict` does;
- v1 `{"instances": [...]}`: each a 32x32x3 nested list, or `{"b64": "..."}` / `{"image_bytes":
  {"b64": "..."}}` (the TensorFlow Serving convention for binary values, which KServe keeps).
Outputs: `probabilities` FP32 [N, classes]; or, when the request asks for `probabilities` with the
parameter `classification: K` (Triton's classification extension), BYTES [N, K] "score:index:label".
Bad input is an InvalidInput naming what was wrong: KServe answers it with HTTP 400 /
gRPC INVALID_ARGUMENT and the server carries on.
"""

import asyncio
import base64
import binascii
import io
import struct
import uuid
from typing import Any

import numpy as np
from kserve import InferOutput, InferRequest, InferResponse, Model
from kserve.errors import InvalidInput
from PIL import UnidentifiedImageError

from alexnet_kfp.errors import InputError
from alexnet_kfp.inference import TRIAL_KEY
from alexnet_kfp.inference.onnx_classifier import SIZE, OnnxClassifier, load_image
from alexnet_kfp.serve.batcher import Batcher, Ticket
from alexnet_kfp.serve.config import DEFAULT_BATCH_DELAY_MS, DEFAULT_BATCH_SIZE
from alexnet_kfp.serve.limits import MAX_IMAGES, MAX_REQUEST_PIXELS
from alexnet_kfp.untrusted import json_value

INPUT_NAME, OUTPUT_NAME = "image", "probabilities"
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n"


class AlexNetModel(Model):
    """One exported model file, served under `name`; `threads` per inference call (None: one per
    core)."""

    def __init__(
        self,
        name: str,
        path,
        threads: int | None = None,
        max_batch_size: int = DEFAULT_BATCH_SIZE,
        max_batch_delay_ms: float = DEFAULT_BATCH_DELAY_MS,
    ):
        super().__init__(name)
        self.path, self.threads = path, threads
        self.max_batch_size, self.max_batch_delay_ms = max_batch_size, max_batch_delay_ms
        self._classifier: OnnxClassifier | None = None
        self._batcher: Batcher | None = None

    def load(self) -> bool:
        self._classifier = OnnxClassifier(self.path, threads=self.threads)
        self._batcher = Batcher(
            self._classifier.predict, self.max_batch_size, self.max_batch_delay_ms
        )
        self.ready = True
        return self.ready

    @property
    def batcher(self) -> Batcher:
        if self._batcher is None:
            raise RuntimeError(f"model {self.name} is not loaded")
        return self._batcher

    @property
    def classifier(self) -> OnnxClassifier:
        if self._classifier is None:
            raise RuntimeError(f"model {self.name} is not loaded")
        return self._classifier

    def get_input_types(self) -> list[dict]:
        return [{"name": INPUT_NAME, "datatype": "UINT8", "shape": [-1, SIZE, SIZE, 3]}]

    def get_output_types(self) -> list[dict]:
        return [
            {
                "name": OUTPUT_NAME,
                "datatype": "FP32",
                "shape": [-1, len(self.classifier.class_names)],
            }
        ]

    async def predict(
        self, payload: InferRequest | dict, headers: dict | None = None
    ) -> InferResponse | dict:
        # decoding runs in a worker thread, inference in the batcher's, so that health, readiness
        # and metrics are answered while a large request is worked on; the request is checked
        # whole first, and announced to the batcher while it is decoded
        async with self.batcher.coming() as ticket:
            return await self._answer(payload, ticket)

    async def _answer(self, payload: Any, ticket: Ticket) -> InferResponse | dict:
        work = asyncio.get_running_loop().run_in_executor
        if isinstance(payload, (bytes, bytearray)):  # v1 JSON sent as text/plain, or curl -d's form
            payload = _json_object(payload)
        if not isinstance(payload, (dict, InferRequest)):
            raise InvalidInput(f"expected a JSON object {_V1_FORM}, got {_json_kind(payload)}")
        if isinstance(payload, dict):
            probabilities = await ticket.infer(await work(None, _v1_images, payload))
            return {"predictions": probabilities.tolist(), **self.trial_note()}
        if payload.model_version:  # over gRPC KServe passes it on; this server has no versions
            raise InvalidInput(
                f"model {self.name} has no version {payload.model_version!r}: leave it empty"
            )
        k = self._requested_class_count(payload)
        if _is_small_pixel_tensor(payload):  # a copy of a few KB: not worth a thread's round trip
            images = _v2_images(payload)
        else:
            images = await work(None, _v2_images, payload)
        probabilities = await ticket.infer(images)
        return InferResponse(
            model_name=self.name,
            infer_outputs=self._outputs(payload, probabilities, k),
            response_id=payload.id or str(uuid.uuid4()),
            use_binary_outputs=payload.use_binary_outputs,
            parameters=self.trial_note() or None,
        )

    def trial_note(self) -> dict[str, str]:
        """{"trial": what to say} in every answer of a trial model (the Open Inference Protocol's
        response parameters; a field of a v1 answer), else nothing."""
        trial = self.classifier.trial
        return {TRIAL_KEY: trial} if trial else {}

    def _requested_class_count(self, request: InferRequest) -> int | None:
        requested = request.request_outputs or []
        unknown = [o.name for o in requested if o.name != OUTPUT_NAME]
        if unknown:
            raise InvalidInput(
                f"unknown output {unknown[0]!r}: the model's one output is {OUTPUT_NAME!r}"
            )
        return _class_count(
            requested[0].parameters if requested else None, len(self.classifier.class_names)
        )

    def _outputs(
        self, request: InferRequest, probabilities: np.ndarray, k: int | None
    ) -> list[InferOutput]:
        if k is None:
            output = InferOutput(OUTPUT_NAME, list(probabilities.shape), "FP32")
            output.set_data_from_numpy(probabilities, binary_data=request.use_binary_outputs)
            return [output]
        order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
        names = self.classifier.class_names
        labels = np.array(
            [
                [f"{p[i]:f}:{i}:{names[i]}".encode() for i in row]
                for p, row in zip(probabilities, order, strict=True)
            ],
            dtype=np.object_,
        )
        output = InferOutput(OUTPUT_NAME, list(labels.shape), "BYTES")
        output.set_data_from_numpy(labels, binary_data=request.use_binary_outputs)
        return [output]


def _class_count(parameters: Any, classes: int) -> int | None:
    """The classification extension's K, if asked for (1..classes)."""
    if not parameters or "classification" not in parameters:
        return None
    value = parameters["classification"]
    value = getattr(value, "int64_param", value)  # gRPC gives an InferParameter message
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= classes:
        raise InvalidInput(
            f"classification must be a whole number of classes from 1 to {classes}, got {value!r}"
        )
    return value


# Pixels of up to this many images are checked and copied on the event loop (microseconds); larger
# tensors and encoded images go to a worker thread.
_INLINE_IMAGES = 64


def _is_small_pixel_tensor(request: InferRequest) -> bool:
    inputs = request.inputs
    if len(inputs) != 1 or inputs[0].datatype != "UINT8" or not inputs[0].shape:
        return False
    return 1 <= int(inputs[0].shape[0]) <= _INLINE_IMAGES and not isinstance(inputs[0].data, list)


def _checked_count(count: int) -> None:
    if not 1 <= count <= MAX_IMAGES:
        raise InvalidInput(f"a request holds 1 to {MAX_IMAGES} images, got {count}")


def _v2_images(request: InferRequest) -> np.ndarray:
    inputs = request.inputs
    if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
        raise InvalidInput(
            f"expected one input named {INPUT_NAME!r}, got {[i.name for i in inputs]}"
        )
    tensor = inputs[0]
    shape = [int(d) for d in tensor.shape]
    if tensor.datatype == "UINT8":
        if len(shape) != 4 or shape[1:] != [SIZE, SIZE, 3]:
            raise InvalidInput(
                f"UINT8 {INPUT_NAME} must have shape [N, {SIZE}, {SIZE}, 3], got {shape}"
            )
        _checked_count(shape[0])
        if isinstance(tensor.data, list) and not _all_whole_bytes(tensor.data):
            # JSON: numpy would make 0.9, "7" and true pixels without a word
            raise InvalidInput(f"UINT8 {INPUT_NAME}: values must be whole numbers 0-255")
        try:
            return np.ascontiguousarray(tensor.as_numpy(), dtype=np.uint8)
        except OverflowError:  # numpy refuses 300 or -5 as uint8: the client's mistake
            raise InvalidInput(f"UINT8 {INPUT_NAME}: values must be whole numbers 0-255") from None
        except (ValueError, TypeError) as e:  # the data does not fill the declared shape
            raise InvalidInput(
                f"UINT8 {INPUT_NAME}: data does not match shape {shape} ({e})"
            ) from None
    if tensor.datatype == "BYTES":
        if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1):
            raise InvalidInput(
                f"BYTES {INPUT_NAME} must have shape [N] (one encoded image each), got {shape}"
            )
        _checked_count(shape[0])
        try:
            files = tensor.as_numpy().reshape(-1)
        except (ValueError, struct.error) as e:  # raw gRPC BYTES whose length prefixes lie
            raise InvalidInput(
                f"BYTES {INPUT_NAME}: data does not match shape {shape} ({e})"
            ) from None
        budget = _PixelBudget()
        return np.stack([_decode(item, i, budget) for i, item in enumerate(files)])
    raise InvalidInput(
        f"{INPUT_NAME} must be UINT8 [N, {SIZE}, {SIZE}, 3] pixels or BYTES [N] encoded images, "
        f"got {tensor.datatype}"
    )


_V1_FORM = '{"instances": [...]}: 32x32x3 pixel lists or {"b64": "<encoded image>"}'


def _json_object(body: bytes | bytearray) -> Any:
    """A v1 body KServe passed on unparsed (its content type was not JSON's), parsed."""
    try:
        return json_value(body, "the body")
    except InputError as e:
        reason = str(e) if "nested" in str(e) else "the body is not JSON"
        raise InvalidInput(f"{reason}; expected {_V1_FORM}") from None


def _json_kind(value: Any) -> str:
    kinds = {type(None): "null", list: "a list", str: "a string", bool: "a boolean"}
    return kinds.get(type(value), "a number")


def _v1_images(body: dict) -> np.ndarray:
    instances = body.get("instances")
    if not isinstance(instances, list):
        raise InvalidInput(f"expected {_V1_FORM}")
    _checked_count(len(instances))
    images, budget = [], _PixelBudget()
    for i, instance in enumerate(instances):
        if isinstance(instance, dict):
            encoded = instance.get("image_bytes", instance)
            if not isinstance(encoded, dict) or not isinstance(encoded.get("b64"), str):
                raise InvalidInput(
                    f'instance {i}: expected {{"b64": "..."}} or {{"image_bytes": {{"b64": '
                    '"..."}}}}'
                )
            images.append(_decode(encoded["b64"], i, budget))
        else:
            try:
                pixels = np.asarray(instance)
            except ValueError:
                pixels = None
            if pixels is None or pixels.shape != (SIZE, SIZE, 3) or not _whole_bytes(pixels):
                raise InvalidInput(
                    f"instance {i}: expected {SIZE}x{SIZE}x3 whole numbers 0-255 or an encoded "
                    "image"
                )
            images.append(pixels.astype(np.uint8))
    return np.stack(images)


def _all_whole_bytes(values: list) -> bool:
    """Every value of a JSON tensor (nested lists allowed) a whole number 0-255."""
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif type(value) is not int or not 0 <= value <= 255:
            return False
    return True


def _whole_bytes(pixels: np.ndarray) -> bool:
    return (
        pixels.dtype.kind in "iu" and pixels.size > 0 and 0 <= pixels.min() and pixels.max() <= 255
    )


class _OverBudget(InvalidInput):
    """A request whose images hold more pixels in all than the server decodes for one request."""


class _NotAnImage(InvalidInput):
    """Bytes that no allowed image format recognises: the only ones worth reading as base64 text."""


class _PixelBudget:
    """What a request's encoded images may decode to in all (MAX_REQUEST_PIXELS), checked as each
    header is read; load_image holds each to MAX_PIXELS, as in `predict`."""

    def __init__(self, pixels: int = MAX_REQUEST_PIXELS):
        self.left = pixels

    def admit(self, width: int, height: int, index: int) -> None:
        """Spend an image's pixels (as decoded; load_image has refused one over MAX_PIXELS)."""
        self.left -= width * height
        if self.left < 0:
            raise _OverBudget(
                f"image {index}: the request's images hold more than {MAX_REQUEST_PIXELS:,} "
                "pixels in all; send fewer or smaller images"
            )


def _decode(item: Any, index: int, budget: _PixelBudget) -> np.ndarray:
    """One encoded image: raw bytes, or base64 text (REST JSON cannot carry raw bytes)."""
    if isinstance(item, str):
        raw = _base64(item, index)
    elif isinstance(item, (bytes, bytearray, np.bytes_)):
        raw = bytes(item)
    else:
        raise InvalidInput(
            f"image {index}: expected encoded image bytes or base64 text, got {type(item).__name__}"
        )
    try:
        return _image(raw, index, budget)
    except _NotAnImage as e:  # an image refused for its size or damage is not retried
        if isinstance(item, str):
            raise
        if not _is_base64_text(raw):
            raise InvalidInput(f"{e} nor base64 text of one") from None
    return _image(_base64(raw.decode("ascii"), index), index, budget)  # base64 text as bytes


def _image(raw: bytes, index: int, budget: _PixelBudget) -> np.ndarray:
    try:
        return load_image(io.BytesIO(raw), admit=lambda w, h: budget.admit(w, h, index))
    except _OverBudget:  # already one line
        raise
    except UnidentifiedImageError:
        raise _NotAnImage(f"image {index}: not an encoded image (PNG, JPEG, ...)") from None
    except Exception as e:  # Pillow's errors for truncated or oversized images, and our pixel limit
        raise InvalidInput(f"image {index}: not a readable image ({e})") from None


def _is_base64_text(raw: bytes) -> bool:
    return bool(raw) and not raw.translate(None, _BASE64_ALPHABET)


def _base64(text: str, index: int) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"image {index}: not valid base64") from None
