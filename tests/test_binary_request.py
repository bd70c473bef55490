"""The REST binary extension's requests, checked whole before KServe reads them: every malformed one
is one line for a 400 (KServe 0.21 answered most with HTTP 500), every well-formed one passes."""

import json
import struct

import pytest

from alexnet_kfp.serve.binary_request import ITEM_SIZES, Malformed, check_binary_request

pytestmark = pytest.mark.unit

PIXELS = 32 * 32 * 3


def _input(datatype="UINT8", shape=(1, 32, 32, 3), size=PIXELS, **more) -> dict:
    tensor = {"name": "image", "shape": list(shape), "datatype": datatype}
    return tensor | ({"parameters": {"binary_data_size": size}} if size is not None else {}) | more


def _body(header: object, data: bytes = b"", length: int | None = None) -> tuple[bytes, bytes]:
    text = json.dumps(header).encode()
    return str(len(text) if length is None else length).encode(), text + data


def _strings(*items: bytes) -> bytes:
    return b"".join(struct.pack("<I", len(item)) + item for item in items)


@pytest.mark.parametrize(
    ("header", "data"),
    [
        ({"inputs": [_input()]}, b"\x07" * PIXELS),
        ({"inputs": [_input(shape=(2, 32, 32, 3), size=2 * PIXELS)]}, b"\x00" * 2 * PIXELS),
        ({"inputs": [_input("BYTES", (2,), 18)]}, _strings(b"png1", b"jpeg22")),
        ({"inputs": [_input("BYTES", (1,), 4)]}, _strings(b"")),  # an empty element is an element
        ({"inputs": [_input("FP32", (2, 3), 24)]}, b"\x00" * 24),
        ({"inputs": [_input(size=None, data=[1, 2])]}, b""),  # JSON data: nothing to check here
        (
            {"inputs": [_input()], "outputs": [{"name": "probabilities", "parameters": {}}]},
            b"\x01" * PIXELS,
        ),
        ({"inputs": [_input(), _input("BYTES", (1,), 5)]}, b"\x01" * PIXELS + _strings(b"x")),
    ],
)
def test_a_well_formed_request_passes(header, data):
    check_binary_request(*_body(header, data))


@pytest.mark.parametrize(
    ("length", "header", "data", "says"),
    [
        ("abc", {"inputs": [_input()]}, b"\x01" * PIXELS, "Inference-Header-Content-Length 'abc'"),
        ("-1", {"inputs": [_input()]}, b"\x01" * PIXELS, "Inference-Header-Content-Length '-1'"),
        ("0", {"inputs": [_input()]}, b"\x01" * PIXELS, "must be the JSON header's length"),
        ("999999", {"inputs": [_input()]}, b"", "from 1 to the body's"),
        ("1e3", {"inputs": [_input()]}, b"", "Inference-Header-Content-Length '1e3'"),
        (None, [1, 2], b"", "JSON header must be an object, got list"),
        (None, "text", b"", "JSON header must be an object, got str"),
        (None, None, b"", "JSON header must be an object, got null"),
        (None, {"x": 1}, b"", 'needs "inputs"'),
        (None, {"inputs": 5}, b"", 'needs "inputs"'),
        (None, {"inputs": []}, b"", 'needs "inputs"'),
        (None, {"inputs": [5]}, b"", "input 0: must be an object, got int"),
        (None, {"inputs": [{"shape": [1], "datatype": "BYTES"}]}, b"", 'needs a "name"'),
        (None, {"inputs": [_input(name=7)]}, b"\x01" * PIXELS, 'needs a "name"'),
        (None, {"inputs": [_input(datatype=None)]}, b"", 'needs a "name" and a "datatype"'),
        (None, {"inputs": [_input(shape="x")]}, b"", '"shape" must be a list'),
        (None, {"inputs": [_input(shape=(1, -32, 32, 3))]}, b"", '"shape" must be a list'),
        (None, {"inputs": [_input(shape=(1.0, 32, 32, 3))]}, b"", '"shape" must be a list'),
        (None, {"inputs": [_input(shape=(True,))]}, b"", '"shape" must be a list'),
        (None, {"inputs": [_input(size=None, parameters=5)]}, b"", '"parameters" must be'),
        (None, {"inputs": [_input(size=None)]}, b"", 'needs "data" or parameters.binary_data'),
        (None, {"inputs": [_input(size="abc")]}, b"", "binary_data_size must be a whole number"),
        (None, {"inputs": [_input(size=-5)]}, b"", "binary_data_size must be a whole number"),
        (None, {"inputs": [_input(size=3072.5)]}, b"", "binary_data_size must be a whole number"),
        (None, {"inputs": [_input(size=True)]}, b"\x01", "binary_data_size must be a whole number"),
        (None, {"inputs": [_input(data=[1])]}, b"\x01" * PIXELS, "not both"),
        (None, {"inputs": [_input()]}, b"\x01" * 10, "binary_data_size 3072 runs past the body"),
        (None, {"inputs": [_input()]}, b"\x01" * (PIXELS + 1), "add up to 3072"),
        (None, {"inputs": [_input(size=10)]}, b"\x01" * 10, "is 3072 bytes, binary_data_size says"),
        (None, {"inputs": [_input("FOO", (1,), 1)]}, b"\x01", "datatype 'FOO' is not one of"),
        (
            None,
            {"inputs": [_input("BYTES", (1,), 8)]},
            b"\xff\xff\xff\x7fabcd",
            "BYTES element 0 claims 2147483647 bytes",
        ),
        (None, {"inputs": [_input("BYTES", (1,), 2)]}, b"ab", "element 0 has no 4-byte length"),
        (None, {"inputs": [_input("BYTES", (1,), 0)]}, b"", "needs 1 BYTES elements, the data "),
        (
            None,
            {"inputs": [_input("BYTES", (1,), 10)]},
            _strings(b"a", b"b"),
            "needs 1 BYTES elements, the data holds 2",
        ),
        (
            None,
            {"inputs": [_input(shape=(10**12, 32, 32, 3))]},
            b"\x01" * PIXELS,
            "binary_data_size says 3072",
        ),
        (None, {"inputs": [_input()], "outputs": 5}, b"\x01" * PIXELS, '"outputs" must be a list'),
        (None, {"inputs": [_input()], "outputs": [{}]}, b"\x01" * PIXELS, '"outputs" must be'),
        (
            None,
            {"inputs": [_input()], "outputs": [{"name": "p", "parameters": 1}]},
            b"\x01" * PIXELS,
            '"outputs" must be',
        ),
    ],
)
def test_a_malformed_request_is_one_line(length, header, data, says):
    given_length, body = _body(header, data)
    with pytest.raises(Malformed) as refused:
        check_binary_request(given_length if length is None else length.encode(), body)
    assert says in str(refused.value) and "\n" not in str(refused.value)


def test_a_header_that_is_not_json_or_not_utf8_is_one_line():
    for header in (b"{not json", b"\xff\xfe{}", b'{"inputs": [1]'):
        with pytest.raises(Malformed, match="the request's JSON header: not JSON"):
            check_binary_request(str(len(header)).encode(), header)


def test_every_fixed_size_datatype_is_sized_by_its_shape():
    for datatype, size in ITEM_SIZES.items():
        right, wrong = 3 * size, 3 * size + 1
        check_binary_request(*_body({"inputs": [_input(datatype, (3,), right)]}, b"\0" * right))
        with pytest.raises(Malformed, match=f"{datatype} shape"):
            check_binary_request(*_body({"inputs": [_input(datatype, (3,), wrong)]}, b"\0" * wrong))
