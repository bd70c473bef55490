"""Malformed requests to a real `alexnet-kfp serve`, each class answered 4xx / INVALID_ARGUMENT or
NOT_FOUND naming the fault, never 5xx / INTERNAL, the server still up: v1 bodies that are no JSON
object or come with another content type, UINT8 pixels that are not whole numbers, the REST binary
extension's sizes and headers, raw gRPC BYTES whose length prefixes lie, a model version."""

import base64
import io
import json
import socket
import struct

import grpc
import numpy as np
import pytest
from PIL import Image

from .hostile_images import declaring_jpeg
from .test_serve import Server, _v2

pytestmark = pytest.mark.integration

PIXELS = 32 * 32 * 3


@pytest.fixture(scope="module")
def served(exported, tmp_path_factory):
    running = Server(exported, tmp_path_factory.mktemp("serve-malformed") / "server.log")
    yield running
    assert running.stop() == 0


def _png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 30, 30)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        (b"null", "application/json", "got null"),
        (b"[1, 2]", "application/json", "got a list"),
        (b'"instances"', "application/json", "got a string"),
        (b"3", "application/json", "got a number"),
        (b"true", "application/json", "got a boolean"),
        (b"{not json", "text/plain", "the body is not JSON"),
        (b"null", "text/plain", "got null"),
        (b"", "application/x-www-form-urlencoded", "the body is not JSON"),
        (b'{"instances": [{"b64": "@@@"}]}', "text/plain", "not valid base64"),
    ],
)
def test_v1_bodies_that_are_no_json_object_are_400(served, body, content_type, says):
    status, answer = served.post("/v1/models/alexnet:predict", body, {"Content-Type": content_type})
    assert status == 400 and says in answer["error"], (status, answer)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_v1_json_body_sent_as_curl_sends_it_is_answered(served, content_type):
    body = json.dumps({"instances": [{"b64": _png()}]}).encode()
    status, answer = served.post("/v1/models/alexnet:predict", body, {"Content-Type": content_type})
    assert status == 200 and len(answer["predictions"][0]) == 10, answer


@pytest.mark.parametrize(
    "value", [0.9, 1.0, "7", True, None, [1], {"v": 1}], ids=lambda v: json.dumps(v)
)
def test_uint8_pixels_must_be_whole_numbers_in_json(served, value):
    data = [0] * (PIXELS - 1) + [value]
    status, answer = served.post(
        "/v2/models/alexnet/infer", json.dumps(_v2("UINT8", [1, 32, 32, 3], data)).encode()
    )
    assert status == 400, (status, answer)
    assert "whole numbers 0-255" in answer["error"] or "does not match" in answer["error"]


def test_uint8_pixels_may_be_nested_as_the_shape(served):
    nested = np.zeros((1, 32, 32, 3), np.uint8).tolist()
    status, answer = served.post(
        "/v2/models/alexnet/infer", json.dumps(_v2("UINT8", [1, 32, 32, 3], nested)).encode()
    )
    assert status == 200 and answer["outputs"][0]["shape"] == [1, 10], answer


def _binary(served, header: object, data: bytes, length: str | None = None):
    text = json.dumps(header).encode()
    headers = {
        "Content-Type": "application/octet-stream",
        "Inference-Header-Content-Length": length or str(len(text)),
    }
    return served.post("/v2/models/alexnet/infer", text + data, headers)


def _tensor(datatype="UINT8", shape=(1, 32, 32, 3), parameters=None) -> dict:
    size = {"binary_data_size": PIXELS} if parameters is None else parameters
    return {"name": "image", "shape": list(shape), "datatype": datatype, "parameters": size}


@pytest.mark.parametrize(
    ("header", "data", "length", "says"),
    [
        ({"inputs": [_tensor()]}, b"\x01" * 10, None, "runs past the body's end"),
        ({"inputs": [_tensor()]}, b"\x01" * (PIXELS + 7), None, "add up to 3072"),
        ({"inputs": [_tensor(parameters={"binary_data_size": "x"})]}, b"", None, "whole number"),
        ({"inputs": [_tensor(parameters={"binary_data_size": 1.5})]}, b"", None, "whole number"),
        ({"inputs": [_tensor(parameters=7)]}, b"\x01" * PIXELS, None, '"parameters" must be'),
        ({"inputs": [_tensor()]}, b"\x01" * PIXELS, "abc", "Inference-Header-Content-Length"),
        ({"inputs": [_tensor()]}, b"\x01" * PIXELS, "99999999", "Inference-Header-Content-Length"),
        ([1, 2], b"", None, "must be an object, got list"),
        ({"inputs": "image"}, b"", None, 'needs "inputs"'),
        ({"inputs": [3]}, b"", None, "input 0: must be an object"),
        ({"inputs": [{"shape": [1], "datatype": "BYTES"}]}, b"", None, 'needs a "name"'),
        ({"inputs": [_tensor(shape=("a",))]}, b"\x01" * PIXELS, None, '"shape" must be a list'),
        (
            {"inputs": [_tensor("BYTES", (1,), {"binary_data_size": 8})]},
            b"\xff\xff\xff\x7fabcd",
            None,
            "claims 2147483647 bytes",
        ),
        (
            {"inputs": [_tensor("BYTES", (1,), {"binary_data_size": 2})]},
            b"ab",
            None,
            "no 4-byte length",
        ),
    ],
)
def test_malformed_binary_requests_are_400_naming_the_fault(served, header, data, length, says):
    status, answer = _binary(served, header, data, length)
    assert status == 400 and says in answer["error"], (status, answer)
    assert served.ready()


def test_a_well_formed_binary_request_is_answered(served):
    status, answer = _binary(served, {"inputs": [_tensor()]}, bytes(range(256)) * 12)
    assert status == 200 and answer["outputs"][0]["shape"] == [1, 10], answer


def _grpc(served):
    """The protocol's own messages and stub, as tritonclient ships them (kserve's copy of the same
    protobuf package cannot be imported beside it)."""
    from tritonclient.grpc import service_pb2 as pb
    from tritonclient.grpc import service_pb2_grpc as stubs

    channel = grpc.insecure_channel(f"127.0.0.1:{served.grpc_port}")
    return pb, stubs.GRPCInferenceServiceStub(channel)


@pytest.mark.parametrize(
    ("raw", "shape", "says"),
    [
        (b"\xff\xff\xff\x7fabcd", [1], "unpack_from requires"),  # a prefix larger than the message
        (b"ab", [1], "unpack_from requires"),  # no whole length prefix
        (b"", [1], "does not match shape [1]"),
        (struct.pack("<I", 1) + b"a" + struct.pack("<I", 1) + b"b", [1], "does not match shape"),
    ],
)
def test_raw_grpc_bytes_whose_prefixes_lie_are_invalid_argument(served, raw, shape, says):
    pb, stub = _grpc(served)
    tensor = pb.ModelInferRequest.InferInputTensor(name="image", datatype="BYTES", shape=shape)
    request = pb.ModelInferRequest(model_name="alexnet", inputs=[tensor], raw_input_contents=[raw])
    with pytest.raises(grpc.RpcError) as refused:
        stub.ModelInfer(request)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
    assert says in refused.value.details()


def test_grpc_readiness_and_metadata_of_a_version_it_lacks_are_not_found(served):
    pb, stub = _grpc(served)
    assert stub.ModelReady(pb.ModelReadyRequest(name="alexnet")).ready
    assert stub.ModelMetadata(pb.ModelMetadataRequest(name="alexnet")).name == "alexnet"
    for call, request in (
        (stub.ModelReady, pb.ModelReadyRequest(name="alexnet", version="3")),
        (stub.ModelMetadata, pb.ModelMetadataRequest(name="alexnet", version="1")),
    ):
        with pytest.raises(grpc.RpcError) as refused:
            call(request)
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
        assert "has no version" in refused.value.details()


@pytest.mark.parametrize("length", ["²", "1_0", "+12", " ", "9" * 40])
def test_a_header_length_that_is_not_ascii_digits_is_400(served, length):
    # "²".isdigit() is true and int("²") a ValueError; int() takes "1_0" and "+12"
    status, answer = _binary(served, {"inputs": [_tensor()]}, b"\x01" * PIXELS, length)
    assert status == 400 and "Inference-Header-Content-Length" in answer["error"], answer
    assert served.ready()


@pytest.mark.parametrize("depth", [65, 100_000])
def test_json_nested_past_its_bound_is_400_in_every_body(served, depth):
    deep = b"[" * depth + b"]" * depth
    headers = {
        "Content-Type": "application/octet-stream",
        "Inference-Header-Content-Length": str(len(deep)),
    }
    status, answer = served.post("/v2/models/alexnet/infer", deep, headers)
    assert status == 400 and "nested more than the 64 levels allowed" in answer["error"], answer
    status, answer = served.post("/v1/models/alexnet:predict", deep, {"Content-Type": "text/plain"})
    assert status == 400 and "nested more than the 64 levels allowed" in answer["error"], answer
    status, answer = served.post("/v2/models/alexnet/infer", deep)  # KServe's own parser
    assert status == 400, (status, answer)
    assert served.ready()


def test_a_content_length_that_is_not_ascii_digits_is_refused_not_a_500(served):
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(
            b"POST /v1/models/alexnet:predict HTTP/1.1\r\nHost: x\r\nContent-Length: \xb2\r\n\r\n"
        )
        status_line = connection.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.split()[1].startswith(b"4"), status_line
    assert served.ready()


def test_a_jpeg_whose_decoding_would_pass_the_budget_is_400(served):
    bomb = base64.b64encode(declaring_jpeg(13000, 13000, progressive=True)).decode()
    body = json.dumps({"instances": [{"b64": bomb}]}).encode()
    status, answer = served.post("/v1/models/alexnet:predict", body)
    assert status == 400 and "MiB allowed for one image" in answer["error"], answer
    assert served.ready()
