"""Plain pixel requests (one raw UINT8 `image` tensor, no parameters) are answered without KServe's
generic decoding (plain_pixels.py): the answer is the message KServe's path gives for the same
pixels sent another way, every near miss still gets KServe's answer or its one-line refusal, and
the requests are counted in KServe's Prometheus histograms."""

import copy
import json
import re
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
from tritonclient.grpc import service_pb2, service_pb2_grpc

from .plain_requests import (
    BINARY_NEAR_MISSES,
    NEAR_MISSES,
    REST_NEAR_MISSES,
    REST_PLAIN_FORMS,
    changed,
    rest_body,
    rest_plain,
)
from .test_serve import images, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.integration

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _request(model: str, pixels: np.ndarray, **fields):
    """A plain ModelInferRequest of `pixels` (raw_input_contents)."""
    request = service_pb2.ModelInferRequest(model_name=model, **fields)
    request.inputs.add(name="image", datatype="UINT8", shape=list(pixels.shape))
    request.raw_input_contents.append(pixels.tobytes())
    return request


def _through_kserve(request):
    """The same request with a parameter no one reads: not plain, so KServe's path answers it."""
    request.parameters["tag"].string_param = "a client's own"
    return request


def _infer(server, request):  # noqa: F811 (the fixture's name)
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        return service_pb2_grpc.GRPCInferenceServiceStub(channel).ModelInfer(request, timeout=60)


def _refusal(server, request) -> str:  # noqa: F811
    with pytest.raises(grpc.RpcError) as refused:
        _infer(server, request)
    return f"{refused.value.code().name}: {refused.value.details()}"


@pytest.mark.parametrize("model", ["alexnet", "alexnet_int8"])
@pytest.mark.parametrize("count", [1, 3])
def test_the_plain_path_answers_as_kserve_does(server, images, model, count):  # noqa: F811
    pixels = images[:count]
    plain = _infer(server, _request(model, pixels, id="asked-7"))
    generic = _infer(server, _through_kserve(_request(model, pixels, id="asked-7")))
    assert plain == generic  # every field, the probabilities' bytes included
    assert plain.id == "asked-7" and list(plain.outputs[0].shape) == [count, 10]
    unnamed = [_infer(server, _request(model, pixels)), _infer(server, _through_kserve(
        _request(model, pixels)))]  # fmt: skip
    assert all(UUID.match(answer.id) for answer in unnamed), [a.id for a in unnamed]
    assert unnamed[0].id != unnamed[1].id
    unnamed[0].id = unnamed[1].id = ""
    assert unnamed[0] == unnamed[1]


def test_typed_contents_get_the_same_probabilities_typed(server, images):  # noqa: F811
    plain = _infer(server, _request("alexnet", images[:2]))
    typed = service_pb2.ModelInferRequest(model_name="alexnet")
    tensor = typed.inputs.add(name="image", datatype="UINT8", shape=[2, 32, 32, 3])
    tensor.contents.uint_contents.extend(images[:2].reshape(-1).tolist())
    answer = _infer(server, typed)  # KServe answers typed contents with typed contents
    got = np.array(answer.outputs[0].contents.fp32_contents, dtype=np.float32)
    assert got.tobytes() == plain.raw_output_contents[0]


@pytest.mark.parametrize("miss", NEAR_MISSES)
def test_near_misses_are_refused_by_kserve_in_one_line(server, images, miss):  # noqa: F811
    said = _refusal(server, changed(_request("alexnet", images[:1]), NEAR_MISSES[miss]))
    assert said.startswith(("INVALID_ARGUMENT: ", "NOT_FOUND: ")) and "\n" not in said, said
    assert server.ready()


def test_too_many_images_are_refused_by_kserve(server):  # noqa: F811
    pixels = np.zeros((1025, 32, 32, 3), np.uint8)
    said = _refusal(server, _request("alexnet_int8", pixels))
    assert said == "INVALID_ARGUMENT: a request holds 1 to 1024 images, got 1025", said


def test_the_classification_extension_still_takes_kserve_s_path(server, images):  # noqa: F811
    classified = _request("alexnet", images[:2])
    classified.outputs.add(name="probabilities").parameters["classification"].int64_param = 2
    answer = _infer(server, classified)
    assert answer.outputs[0].datatype == "BYTES" and list(answer.outputs[0].shape) == [2, 2]


def _predictions(server, model: str) -> float:  # noqa: F811
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as response:
        text = response.read().decode()
    found = re.search(rf'^request_predict_seconds_count{{model_name="{model}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_plain_requests_are_counted_in_kserve_s_metrics(server, images):  # noqa: F811
    before = _predictions(server, "alexnet_int8")
    for _ in range(3):
        _infer(server, _request("alexnet_int8", images[:1]))
    assert _predictions(server, "alexnet_int8") == before + 3


def _post(server, model: str, request: dict, binary: bool) -> tuple[int, dict, bytes]:  # noqa: F811
    body, length = rest_body(request, binary, count=_tensor_count(request) if binary else 2)
    headers = {"Content-Type": "application/json"}
    if length is not None:
        headers = {"Content-Type": "application/octet-stream",
                   "Inference-Header-Content-Length": str(length)}  # fmt: skip
    sent = urllib.request.Request(
        f"{server.url}/v2/models/{model}/infer", data=body, headers=headers
    )
    try:
        with urllib.request.urlopen(sent, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def _tensor_count(request: dict) -> int:
    """How many images a binary request's bytes hold: what its `binary_data_size` says, if whole."""
    declared = request["inputs"][0].get("parameters", {}).get("binary_data_size", 2 * 3072)
    return declared // 3072


def _rest_through_kserve(request: dict) -> dict:
    """The same request with a parameter no one reads: not plain, so KServe's path answers it."""
    twin = copy.deepcopy(request)
    twin["parameters"] = {**twin.get("parameters", {}), "tag": "a client's own"}
    return twin


def _answer_of(response: tuple[int, dict, bytes]) -> tuple:
    """What a client reads of an answer: status, body, and the headers that say how to read it."""
    status, headers, body = response
    return status, headers.get("content-type"), headers.get("inference-header-content-length"), body


def _json_of(response: tuple[int, dict, bytes]) -> dict:
    """An answer's JSON (of a binary answer, its JSON header)."""
    _, headers, body = response
    return json.loads(body[: int(headers.get("inference-header-content-length") or len(body))])


def _id_of(response: tuple[int, dict, bytes]) -> str:
    return _json_of(response)["id"]


@pytest.mark.parametrize("binary", [False, True], ids=["JSON", "binary"])
@pytest.mark.parametrize("form", REST_PLAIN_FORMS)
def test_the_plain_rest_path_answers_as_kserve_does(server, form, binary):  # noqa: F811
    for model in ("alexnet", "alexnet_int8"):
        request = changed(rest_plain(binary=binary), REST_PLAIN_FORMS[form])
        plain = _post(server, model, request, binary)
        generic = _post(server, model, _rest_through_kserve(request), binary)
        assert plain[0] == 200, plain
        if "id" in request:
            assert _answer_of(plain) == _answer_of(generic)
            continue
        ids = [_id_of(plain), _id_of(generic)]  # a new one each: the rest must be the same
        assert all(UUID.match(i) for i in ids) and ids[0] != ids[1], ids
        assert _answer_of(plain)[:3] == _answer_of(generic)[:3]
        assert plain[2].replace(ids[0].encode(), b"ID") == generic[2].replace(
            ids[1].encode(), b"ID"
        )


@pytest.mark.parametrize("binary", [False, True], ids=["JSON", "binary"])
def test_a_large_plain_rest_request_is_answered_as_kserve_does(server, binary):  # noqa: F811
    request = rest_plain(count=48, binary=binary)  # JSON: ~600 KB, read in a worker thread
    plain = _post(server, "alexnet_int8", request, binary)
    assert plain[0] == 200 and len(_json_of(plain)["outputs"][0]["data"]) == 480
    assert _answer_of(plain) == _answer_of(
        _post(server, "alexnet_int8", _rest_through_kserve(request), binary)
    )


@pytest.mark.parametrize(
    "binary, miss",
    [(False, m) for m in REST_NEAR_MISSES] + [(True, m) for m in BINARY_NEAR_MISSES],
)
def test_rest_near_misses_get_kserve_s_answer(server, binary, miss):  # noqa: F811
    misses = BINARY_NEAR_MISSES if binary else REST_NEAR_MISSES
    request = changed(rest_plain(binary=binary), misses[miss])
    answer = _post(server, "alexnet", request, binary)
    status, _, body = answer
    if status == 200:  # a request KServe's path accepts (nested lists, a parameter): its answer
        twin = _post(server, "alexnet", _rest_through_kserve(request), binary)
        assert twin[0] == 200 and _json_of(answer)["outputs"] == _json_of(twin)["outputs"]
    else:
        said = json.loads(body)["error"]
        assert status == 400 and "\n" not in said, (status, said)
    assert server.ready()
