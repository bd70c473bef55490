"""The REST binary extension of the Open Inference Protocol, checked whole before KServe parses it.

A request of the extension is a JSON header of `Inference-Header-Content-Length` bytes, then each
input's raw data, `parameters.binary_data_size` bytes each, in the order of the inputs (BYTES
elements each a 4-byte little-endian length and that many bytes). KServe 0.21 reads it trusting
every size and field, so a malformed one ended in HTTP 500 with Python's error
(`InferRequest.from_bytes`); here each is one line for a 400. Free of kserve.
"""

import math
import struct
from typing import Any

from alexnet_kfp.errors import InputError
from alexnet_kfp.untrusted import is_whole_number, json_value

# Bytes per element of each fixed-size datatype of the protocol.
ITEM_SIZES = {
    "BOOL": 1,
    "UINT8": 1,
    "INT8": 1,
    "UINT16": 2,
    "INT16": 2,
    "FP16": 2,
    "BF16": 2,
    "UINT32": 4,
    "INT32": 4,
    "FP32": 4,
    "UINT64": 8,
    "INT64": 8,
    "FP64": 8,
}


class Malformed(ValueError):
    """What is wrong with the request, in one line for the client."""


def check_binary_request(header_length: bytes, body: bytes) -> None:
    """Raise Malformed unless `body` is a well-formed request of the binary extension whose JSON
    header is `header_length` (the header's value) bytes long."""
    text = header_length.decode("latin-1").strip()
    if not is_whole_number(text) or not 0 < int(text) <= len(body):
        raise Malformed(
            f"Inference-Header-Content-Length {text!r}: must be the JSON header's length in bytes, "
            f"from 1 to the body's {len(body)}"
        )
    length = int(text)
    what = "the request's JSON header"
    try:
        header = json_value(body[:length].decode("utf-8"), what)
    except UnicodeDecodeError as e:
        raise Malformed(f"{what}: not JSON ({e})") from None
    except InputError as e:
        raise Malformed(str(e)) from None
    if not isinstance(header, dict):
        raise Malformed(f"the request's JSON header must be an object, got {_kind(header)}")
    inputs = header.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise Malformed('the request\'s JSON header needs "inputs": a list of input objects')
    data, offset = body[length:], 0
    for index, tensor in enumerate(inputs):
        size = _binary_size(tensor, index)
        if size is None:
            continue
        if offset + size > len(data):
            raise Malformed(
                f"input {index}: binary_data_size {size} runs past the body's end ({len(data)} "
                f"bytes of data after the header, {offset} of them taken by the inputs before)"
            )
        _check_elements(tensor, data[offset : offset + size], index)
        offset += size
    if offset != len(data):
        raise Malformed(
            f"the body holds {len(data)} bytes after the JSON header, the inputs' "
            f"binary_data_size add up to {offset}"
        )
    outputs = header.get("outputs", [])
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) and _is_object(o, "parameters")
        for o in outputs
    ):
        raise Malformed('"outputs" must be a list of objects, each with a "name"')


def _binary_size(tensor: Any, index: int) -> int | None:
    """The input's binary_data_size (None: its data is in the JSON), its fields checked."""
    if not isinstance(tensor, dict):
        raise Malformed(f"input {index}: must be an object, got {_kind(tensor)}")
    if not isinstance(tensor.get("name"), str) or not isinstance(tensor.get("datatype"), str):
        raise Malformed(f'input {index}: needs a "name" and a "datatype", both strings')
    shape = tensor.get("shape")
    if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
        raise Malformed(f'input {index}: "shape" must be a list of whole numbers >= 0')
    if not _is_object(tensor, "parameters"):
        raise Malformed(f'input {index}: "parameters" must be an object')
    size = (tensor.get("parameters") or {}).get("binary_data_size")
    if size is None:
        if "data" not in tensor:
            raise Malformed(f'input {index}: needs "data" or parameters.binary_data_size')
        return None
    if not _is_count(size):
        raise Malformed(
            f"input {index}: binary_data_size must be a whole number >= 0, got {size!r}"
        )
    if "data" in tensor:
        raise Malformed(f'input {index}: give "data" or parameters.binary_data_size, not both')
    return int(size)


def _check_elements(tensor: dict, raw: bytes, index: int) -> None:
    """The raw data holds exactly the elements the shape declares."""
    datatype, elements = tensor["datatype"], math.prod(tensor["shape"])
    if datatype == "BYTES":
        found, offset = 0, 0
        while offset < len(raw):
            if offset + 4 > len(raw):
                raise Malformed(f"input {index}: BYTES element {found} has no 4-byte length")
            (length,) = struct.unpack_from("<I", raw, offset)
            offset += 4 + length
            if offset > len(raw):
                raise Malformed(
                    f"input {index}: BYTES element {found} claims {length} bytes, more than remain"
                )
            found += 1
        if found != elements:
            raise Malformed(
                f"input {index}: shape {tensor['shape']} needs {elements} BYTES "
                f"elements, the data holds {found}"
            )
        return
    if datatype not in ITEM_SIZES:
        raise Malformed(
            f"input {index}: datatype {datatype!r} is not one of the protocol's: BYTES, "
            + ", ".join(ITEM_SIZES)
        )
    expected = elements * ITEM_SIZES[datatype]
    if len(raw) != expected:
        raise Malformed(
            f"input {index}: {datatype} shape {tensor['shape']} is {expected} bytes, "
            f"binary_data_size says {len(raw)}"
        )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_object(container: dict, key: str) -> bool:
    return container.get(key) is None or isinstance(container[key], dict)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
