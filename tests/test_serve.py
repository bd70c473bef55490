"""`alexnet-kfp serve` on loopback, driven by clients nobody here wrote: tritonclient (HTTP and
gRPC) and plain HTTP requests. Real test images, the exported float32 and int8 models."""

import base64
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from PIL import Image
from tritonclient.utils import InferenceServerException

from alexnet_kfp.data.npz import load_npz
from alexnet_kfp.inference.onnx_classifier import OnnxClassifier
from alexnet_kfp.serve.limits import MAX_IMAGES, MAX_PIXELS, MAX_REQUEST_PIXELS

from .cli import cli_args, run_cli

pytestmark = pytest.mark.integration

MAX_REQUEST_BYTES = 4 * 2**20
JSON = {
    "Content-Type": "application/json"
}  # tritonclient's JSON bodies carry no content type; KServe needs it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, model_path, log_path, *flags):
        self.http_port, self.grpc_port = _free_port(), _free_port()
        self.log_path = log_path
        self.process = subprocess.Popen(
            cli_args(
                "serve",
                "--model",
                model_path,
                "--http-port",
                self.http_port,
                "--grpc-port",
                self.grpc_port,
                "--max-request-bytes",
                MAX_REQUEST_BYTES,
                *flags,
            ),
            stdout=open(log_path, "wb"),
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.http_port}"
        deadline = time.monotonic() + 120
        while not self.ready():
            assert self.process.poll() is None, f"server exited: {log_path.read_text()[-2000:]}"
            assert time.monotonic() < deadline, (
                f"server not ready in 120 s: {log_path.read_text()[-2000:]}"
            )
            time.sleep(0.5)

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/v2/health/ready", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def post(self, path: str, body: bytes, headers: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{self.url}{path}", data=body, headers={**JSON, **(headers or {})}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


@pytest.fixture(scope="module")
def server(exported, tmp_path_factory):
    running = Server(exported, tmp_path_factory.mktemp("serve") / "server.log")
    yield running
    if running.process.poll() is None:
        running.process.kill()


@pytest.fixture(scope="module")
def images(small_dataset):
    test = load_npz(small_dataset / "test.npz")
    return test["x"][:64]


def _clients(server):
    return [
        (httpclient, httpclient.InferenceServerClient(f"127.0.0.1:{server.http_port}")),
        (grpcclient, grpcclient.InferenceServerClient(f"127.0.0.1:{server.grpc_port}")),
    ]


def _pixels(module, images):
    tensor = module.InferInput("image", list(images.shape), "UINT8")
    tensor.set_data_from_numpy(images)
    return tensor


def _encoded(image: Image.Image) -> bytes:
    """`image` as the bytes of a PNG file."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _png(image: np.ndarray, size: int = 96) -> bytes:
    return _encoded(Image.fromarray(image).resize((size, size), Image.Resampling.BICUBIC))


def _grpc_refusal(server, raw: list[bytes]) -> str:
    """What the server says, over gRPC, to a request of these raw encoded images it refuses."""
    tensor = grpcclient.InferInput("image", [len(raw)], "BYTES")
    tensor.set_data_from_numpy(np.array(raw, np.object_))
    client = grpcclient.InferenceServerClient(f"127.0.0.1:{server.grpc_port}")
    with pytest.raises(InferenceServerException) as refused:
        client.infer("alexnet", [tensor])
    return refused.value.message()


def test_health_and_metadata_over_both_protocols(server, exported):
    for module, client in _clients(server):
        assert client.is_server_live() and client.is_server_ready()
        assert client.is_model_ready("alexnet") and client.is_model_ready("alexnet_int8")
        metadata = client.get_model_metadata("alexnet")
        if module is grpcclient:
            metadata = {
                "inputs": [
                    {"name": i.name, "datatype": i.datatype, "shape": list(i.shape)}
                    for i in metadata.inputs
                ],
                "outputs": [
                    {"name": o.name, "datatype": o.datatype, "shape": list(o.shape)}
                    for o in metadata.outputs
                ],
            }
        assert metadata["inputs"] == [
            {"name": "image", "datatype": "UINT8", "shape": [-1, 32, 32, 3]}
        ]
        assert metadata["outputs"] == [
            {"name": "probabilities", "datatype": "FP32", "shape": [-1, 10]}
        ]


@pytest.mark.parametrize("model, int8", [("alexnet", False), ("alexnet_int8", True)])
def test_pixels_give_the_probabilities_onnx_classifier_gives(server, exported, images, model, int8):
    expected = OnnxClassifier(exported, int8=int8).predict(images)
    for module, client in _clients(server):
        result = client.infer(model, [_pixels(module, images)])
        np.testing.assert_allclose(result.as_numpy("probabilities"), expected, rtol=0, atol=1e-6)


def test_classification_extension_names_the_top_classes(server, exported, images):
    classifier = OnnxClassifier(exported)
    expected = classifier.predict(images[:4])
    for module, client in _clients(server):
        output = module.InferRequestedOutput("probabilities", class_count=3)
        labels = client.infer("alexnet", [_pixels(module, images[:4])], outputs=[output]).as_numpy(
            "probabilities"
        )
        assert labels.shape == (4, 3)
        for row, probabilities in zip(labels, expected, strict=True):
            score, index, name = (row[0].decode() if isinstance(row[0], bytes) else row[0]).split(
                ":"
            )
            assert (
                int(index) == probabilities.argmax() and name == classifier.class_names[int(index)]
            )
            assert abs(float(score) - probabilities.max()) < 1e-5


def test_encoded_images_are_classified_like_predict_files(server, exported, images, tmp_path):
    files = [tmp_path / f"{i}.png" for i in range(4)]
    for path, image in zip(files, images[:4], strict=True):
        path.write_bytes(_png(image))
    expected = [r.top[0][0] for r in OnnxClassifier(exported).predict_files(files, top_k=1)]
    names = OnnxClassifier(exported).class_names
    encoded = np.array([path.read_bytes() for path in files], dtype=np.object_)
    # gRPC: raw bytes
    tensor = grpcclient.InferInput("image", [4], "BYTES")
    tensor.set_data_from_numpy(encoded)
    client = grpcclient.InferenceServerClient(f"127.0.0.1:{server.grpc_port}")
    top = client.infer("alexnet", [tensor]).as_numpy("probabilities").argmax(1)
    assert [names[i] for i in top] == expected
    # REST JSON: base64 text, through tritonclient and through a plain POST (what curl sends)
    as_text = np.array([base64.b64encode(b) for b in encoded], dtype=np.object_)
    tensor = grpcclient.InferInput(
        "image", [4], "BYTES"
    )  # base64 text sent as bytes over gRPC works too
    tensor.set_data_from_numpy(as_text)
    assert [
        names[i] for i in client.infer("alexnet", [tensor]).as_numpy("probabilities").argmax(1)
    ] == expected
    tensor = httpclient.InferInput("image", [4], "BYTES")
    tensor.set_data_from_numpy(as_text, binary_data=False)
    client = httpclient.InferenceServerClient(f"127.0.0.1:{server.http_port}")
    top = client.infer("alexnet", [tensor], headers=JSON).as_numpy("probabilities").argmax(1)
    assert [names[i] for i in top] == expected
    body = {
        "inputs": [
            {
                "name": "image",
                "shape": [4],
                "datatype": "BYTES",
                "data": [t.decode() for t in as_text],
            }
        ]
    }
    status, answer = server.post("/v2/models/alexnet/infer", json.dumps(body).encode())
    assert (
        status == 200
        and [names[i] for i in np.array(answer["outputs"][0]["data"]).reshape(4, 10).argmax(1)]
        == expected
    )
    # KServe v1: TensorFlow Serving's {"b64": ...} convention
    body = {"instances": [{"image_bytes": {"b64": t.decode()}} for t in as_text]}
    status, answer = server.post("/v1/models/alexnet:predict", json.dumps(body).encode())
    assert (
        status == 200 and [names[i] for i in np.array(answer["predictions"]).argmax(1)] == expected
    )


@pytest.mark.parametrize(
    "name, shape, datatype, data, says",
    [
        ("image", [2, 32, 32], "UINT8", np.zeros((2, 32, 32), np.uint8), "shape [N, 32, 32, 3]"),
        ("image", [1, 32, 32, 3], "FP32", np.zeros((1, 32, 32, 3), np.float32), "got FP32"),
        (
            "pixels",
            [1, 32, 32, 3],
            "UINT8",
            np.zeros((1, 32, 32, 3), np.uint8),
            "one input named 'image'",
        ),
        ("image", [1], "BYTES", np.array([b"not an image"], dtype=np.object_), "image 0"),
        (
            "image",
            [MAX_IMAGES + 1, 32, 32, 3],
            "UINT8",
            np.zeros((MAX_IMAGES + 1, 32, 32, 3), np.uint8),
            "1 to 1024",
        ),
    ],
)
def test_bad_requests_get_a_clear_4xx_and_the_server_stays_up(
    server, name, shape, datatype, data, says
):
    for module, client in _clients(server):
        tensor = module.InferInput(name, shape, datatype)
        tensor.set_data_from_numpy(data, **({"binary_data": True} if module is httpclient else {}))
        with pytest.raises(InferenceServerException) as refused:
            client.infer("alexnet", [tensor])
        status = str(refused.value.status())
        assert (
            status in ("400", "StatusCode.INVALID_ARGUMENT") and says in refused.value.message()
        ), refused.value
        assert client.is_server_ready()


def _v2(datatype: str, shape: list[int], data: list, outputs: list | None = None) -> dict:
    """An Open Inference Protocol request body with one `image` input."""
    body: dict = {"inputs": [{"name": "image", "shape": shape, "datatype": datatype, "data": data}]}
    return body | ({"outputs": outputs} if outputs else {})


_PIXELS = ("UINT8", [1, 32, 32, 3], [0] * 3072)


@pytest.mark.parametrize(
    "body, says",
    [
        (_v2("BYTES", [1], ["%%% not base64 %%%"]), "base64"),
        (_v2("BYTES", [1], [base64.b64encode(b"GIF89a...").decode()]), "not an encoded image"),
        (_v2("UINT8", [2, 32, 32, 3], [1, 2, 3]), "does not match"),
        (
            _v2(*_PIXELS, [{"name": "probabilities", "parameters": {"classification": 0}}]),
            "classification",
        ),
        (_v2(*_PIXELS, [{"name": "logits"}]), "unknown output"),
        (_v2("UINT8", [1, 32, 32, 3], [300] + [0] * 3071), "0-255"),
        (_v2("UINT8", [1, 32, 32, 3], [-5] + [0] * 3071), "0-255"),
    ],
)
def test_bad_json_gets_400_naming_the_problem(server, body, says):
    status, answer = server.post("/v2/models/alexnet/infer", json.dumps(body).encode())
    assert status == 400 and says in answer["error"], answer
    status, answer = server.post("/v1/models/alexnet:predict", b'{"instances": [{"b64": "????"}]}')
    assert status == 400 and "base64" in answer["error"]
    assert server.ready()


def test_an_image_that_claims_gigapixels_is_refused_before_decoding(server):
    png = _encoded(Image.new("L", (5000, 5000)))  # 25 KB that would decode to 25 megapixels
    body = {
        "inputs": [
            {
                "name": "image",
                "shape": [1],
                "datatype": "BYTES",
                "data": [base64.b64encode(png).decode()],
            }
        ]
    }
    status, answer = server.post("/v2/models/alexnet/infer", json.dumps(body).encode())
    assert status == 400 and "pixels is more than" in answer["error"]


@pytest.mark.parametrize(
    "raw, says",
    [
        (b"GIF89a...", "image 0: not an encoded image (PNG, JPEG, ...) nor base64 text of one"),
        (_encoded(Image.new("RGB", (32, 32), (9, 9, 9)))[:60], "image 0: not a readable image ("),
        (
            _encoded(Image.new("L", (5000, 5000))),
            "image 0: not a readable image (5000x5000 pixels is more than the "
            f"{MAX_PIXELS:,} allowed)",
        ),
    ],
    ids=["not an image", "a truncated PNG", "a PNG claiming 25 megapixels"],
)
def test_raw_bytes_over_grpc_are_refused_for_one_reason(server, raw, says):
    # only bytes that are no image at all are worth reading as base64 text, and saying so
    message = _grpc_refusal(server, [raw])
    assert says in message and message.count("image 0") == 1, message
    assert ("base64" in message) == ("base64" in says), message


def test_oversized_payloads_are_refused_on_both_protocols(server):
    big = np.zeros((MAX_REQUEST_BYTES // 3072 + 10, 32, 32, 3), np.uint8)
    # declared: answered from the headers, as a client waiting for "100 Continue" (curl does) sees
    # it
    connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=60)
    connection.putrequest("POST", "/v2/models/alexnet/infer")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(MAX_REQUEST_BYTES + 1))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413 and "larger than" in json.loads(response.read())["error"]
    connection.close()
    # streamed (chunked, no length): counted as it arrives
    chunked = urllib.request.Request(
        f"{server.url}/v2/models/alexnet/infer",
        headers=JSON,
        data=iter([b"{" + b" " * 2**20] * 5 + [b"}"]),
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(chunked, timeout=60)
    assert refused.value.code == 413
    client = grpcclient.InferenceServerClient(f"127.0.0.1:{server.grpc_port}")
    with pytest.raises(InferenceServerException) as refused:
        client.infer("alexnet", [_pixels(grpcclient, big)])
    assert "RESOURCE_EXHAUSTED" in str(refused.value.status())
    assert server.ready() and client.is_server_ready()


def test_concurrent_clients_get_every_answer_right(server, exported, images):
    """A small load on loopback (bench/serve_load.py is the measured one): no errors, right
    answers."""
    expected = OnnxClassifier(exported).predict(images).argmax(1)

    def client_run(worker: int) -> int:
        client = grpcclient.InferenceServerClient(f"127.0.0.1:{server.grpc_port}")
        wrong = 0
        for i in range(25):
            k = (worker * 25 + i) % len(images)
            top = (
                client.infer("alexnet", [_pixels(grpcclient, images[k : k + 1])])
                .as_numpy("probabilities")
                .argmax()
            )
            wrong += int(top != expected[k])
        return wrong

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(client_run, range(8))) == 0


def _answers(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(5)
        return probe.connect_ex((host, port)) == 0


def test_address_chooses_where_both_protocols_listen(server, exported, images, tmp_path):
    # 127.0.0.2 is this machine too: the default server (every address, as KServe in a pod)
    # answers there; one told --address 127.0.0.1 does not, on either protocol
    assert _answers("127.0.0.2", server.http_port) and _answers("127.0.0.2", server.grpc_port)
    running = Server(exported, tmp_path / "server.log", "--address", "127.0.0.1")
    try:
        assert not _answers("127.0.0.2", running.http_port)
        assert not _answers("127.0.0.2", running.grpc_port)
        client = grpcclient.InferenceServerClient(f"127.0.0.1:{running.grpc_port}")
        assert client.infer("alexnet", [_pixels(grpcclient, images[:1])]).as_numpy(
            "probabilities"
        ).shape == (1, 10)
    finally:
        assert running.stop() == 0


def test_a_mixed_load_of_bad_and_good_requests_leaves_the_good_ones_right(server, exported, images):
    """Eight clients at once, every other request malformed in a different way, over both
    protocols: every good one gets the right answer, every bad one a 4xx, and nothing in between."""
    expected = OnnxClassifier(exported).predict(images).argmax(1)
    bad_bodies = [
        b"{not json",
        json.dumps(_v2("UINT8", [1, 32, 32, 3], [300] + [0] * 3071)).encode(),
        json.dumps(_v2("BYTES", [1], ["%%% not base64 %%%"])).encode(),
        json.dumps(_v2("UINT8", [2, 32, 32, 3], [1, 2, 3])).encode(),
        json.dumps(_v2("FP32", [1, 32, 32, 3], [0.5] * 3072)).encode(),
    ]

    def client_run(worker: int) -> tuple[int, int]:
        grpc = grpcclient.InferenceServerClient(f"127.0.0.1:{server.grpc_port}")
        wrong = not_refused = 0
        for i in range(12):
            k = (worker * 12 + i) % len(images)
            if i % 2:
                status, _ = server.post("/v2/models/alexnet/infer", bad_bodies[k % len(bad_bodies)])
                not_refused += int(not 400 <= status < 500)
                continue
            if worker % 2:
                top = grpc.infer("alexnet", [_pixels(grpcclient, images[k : k + 1])])
            else:
                http = httpclient.InferenceServerClient(f"127.0.0.1:{server.http_port}")
                top = http.infer("alexnet", [_pixels(httpclient, images[k : k + 1])])
            wrong += int(top.as_numpy("probabilities").argmax() != expected[k])
        return wrong, not_refused

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(client_run, range(8)))
    assert [sum(r[0] for r in results), sum(r[1] for r in results)] == [0, 0]
    assert server.ready()


def test_prometheus_metrics_count_the_requests(server, images):
    client = httpclient.InferenceServerClient(f"127.0.0.1:{server.http_port}")
    client.infer("alexnet_int8", [_pixels(httpclient, images[:2])])
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as response:
        text = response.read().decode()
    assert 'request_predict_seconds_count{model_name="alexnet_int8"}' in text


def test_serve_reads_the_model_repository_and_stops_on_sigterm(exported, images, tmp_path):
    from alexnet_kfp.export.model_repository import write_model_repository

    write_model_repository(exported, tmp_path / "repository")
    running = Server(tmp_path / "repository", tmp_path / "server.log")
    try:
        client = grpcclient.InferenceServerClient(f"127.0.0.1:{running.grpc_port}")
        result = client.infer("alexnet_int8", [_pixels(grpcclient, images)]).as_numpy(
            "probabilities"
        )
        np.testing.assert_allclose(
            result, OnnxClassifier(exported, int8=True).predict(images), atol=1e-6
        )
    finally:
        code = running.stop()
    assert code == 0, (tmp_path / "server.log").read_text()[-2000:]


@pytest.mark.parametrize(
    "flags, says",
    [
        (["--model", "/nonexistent"], "no such file"),
        (["--http-port", "0"], "--http-port must be a TCP port"),
        (["--grpc-port", "70000"], "--grpc-port must be a TCP port"),
        (["--max-request-bytes", "2147483648"], "--max-request-bytes must lie between 1 and"),
        (["--max-request-bytes", "0"], "--max-request-bytes must lie between 1 and"),
        (["--threads", str(2**40)], "--threads must lie between 1 and"),
        (["--threads", "100000"], "--threads must lie between 1 and"),
        (["--threads", "0"], "--threads must lie between 1 and"),
        (["--http-port", "9000", "--grpc-port", "9000"], "must differ"),
        (["--max-batch-size", "0"], "--max-batch-size must lie between 1 (no batching) and 1024"),
        (["--max-batch-size", "1025"], "--max-batch-size must lie between 1 (no batching)"),
        (["--max-batch-delay-ms", "-1"], "--max-batch-delay-ms must lie between 0 and 1000"),
        (["--max-batch-delay-ms", "nan"], "--max-batch-delay-ms must lie between 0 and 1000"),
        (["--max-batch-delay-ms", "1e9"], "--max-batch-delay-ms must lie between 0 and 1000"),
        (["--address", "localhost:8080"], "not an IP address"),
        (["--address", "192.0.2.1"], "not an address of this host"),  # TEST-NET-1: nobody's
    ],
)
def test_serve_refuses_bad_arguments_in_one_line(exported, flags, says):
    arguments = ["--model", str(exported), *flags] if flags[0] != "--model" else flags
    done = run_cli("serve", *arguments, timeout=60, env={**os.environ})
    assert (
        done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1
    ), done.stderr


def test_a_second_server_on_a_busy_port_says_so_in_one_line(server, exported):
    # the running server holds both ports: a second one is refused before KServe starts
    for flag, port in (("--http-port", server.http_port), ("--grpc-port", server.grpc_port)):
        with socket.socket() as spare:
            spare.bind(("127.0.0.1", 0))
            other = "--http-port" if flag == "--grpc-port" else "--grpc-port"
            free = [other, spare.getsockname()[1]]
        result = run_cli("serve", "--model", exported, flag, port, *free, timeout=120)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1, result.stderr
        assert f"{flag} {port}: cannot listen there" in lines[0]


def test_pixel_values_out_of_range_are_the_clients_mistake_over_grpc(server):
    # tritonclient cannot put 300 in a UINT8 tensor; a raw request can
    import grpc
    from tritonclient.grpc import service_pb2, service_pb2_grpc

    request = service_pb2.ModelInferRequest(model_name="alexnet")
    tensor = request.inputs.add(name="image", datatype="UINT8", shape=[1, 32, 32, 3])
    tensor.contents.uint_contents.extend([300] + [0] * 3071)
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        with pytest.raises(grpc.RpcError) as refused:
            service_pb2_grpc.GRPCInferenceServiceStub(channel).ModelInfer(request, timeout=60)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, refused.value
    assert "0-255" in refused.value.details()
    assert server.ready()


def _huge_pngs(count: int) -> list[str]:
    """`count` PNGs of 4096x4096 pixels, a few KB each, as base64 text."""
    return [
        base64.b64encode(_encoded(Image.new("RGB", (4096, 4096), (90, 120, 150)))).decode()
    ] * count


def test_a_request_may_hold_only_so_many_pixels_in_all(server):
    # five images within the per-image limit, over the per-request budget: refused before decoding
    assert 5 * 4096 * 4096 > MAX_REQUEST_PIXELS >= 4 * 4096 * 4096
    status, answer = server.post(
        "/v2/models/alexnet/infer", json.dumps(_v2("BYTES", [5], _huge_pngs(5))).encode()
    )
    assert status == 400 and "pixels in all" in answer["error"], answer
    assert "not a readable image" not in answer["error"], answer  # one reason, said once
    # raw bytes over gRPC: images, so not retried as base64 text either
    message = _grpc_refusal(server, [base64.b64decode(p) for p in _huge_pngs(5)])
    assert message.endswith("send fewer or smaller images"), message
    assert server.ready()


def test_health_answers_while_the_largest_allowed_request_is_worked_on(server):
    # ordering, not timing: a health answer arrives before the large request's answer
    body = json.dumps(_v2("BYTES", [4], _huge_pngs(4))).encode()
    events: list[str] = []

    def large() -> None:
        status, _ = server.post("/v2/models/alexnet/infer", body)
        events.append(f"infer {status}")

    with ThreadPoolExecutor(1) as pool:
        answered = pool.submit(large)
        while not answered.done():
            if server.ready():
                events.append("health")
            time.sleep(0.05)
        answered.result()
    # decoding 4 x 16.7 megapixels takes seconds on any CPU: an event loop free to answer answers
    # many times meanwhile; one busy decoding answers only before the request arrives. (A health
    # check sent as the answer came may be recorded after it: count the ones before.)
    assert "infer 200" in events, events
    assert events[: events.index("infer 200")].count("health") >= 3, events


def test_a_model_version_the_server_does_not_have_is_refused_on_both_protocols(server, images):
    status, answer = server.post(
        "/v2/models/alexnet/versions/7/infer", json.dumps(_v2(*_PIXELS)).encode()
    )
    assert status == 404 and "has no model versions" in answer["error"], (status, answer)
    client = grpcclient.InferenceServerClient(f"127.0.0.1:{server.grpc_port}")
    with pytest.raises(InferenceServerException) as refused:
        client.infer("alexnet", [_pixels(grpcclient, images[:1])], model_version="7")
    assert "no version '7'" in refused.value.message() and server.ready()


@pytest.mark.parametrize("action", ["unload", "load"])
@pytest.mark.parametrize("name", ["alexnet", "alexnet_int8", "no-such-model"])
def test_the_repository_api_cannot_change_the_served_models(server, images, action, name):
    # KServe answers load and unload for anyone: the model would be gone while readiness said 200
    for module, client in _clients(server):
        with pytest.raises(InferenceServerException) as refused:
            getattr(client, f"{action}_model")(name)
        assert refused.value.status() in ("400", "StatusCode.INVALID_ARGUMENT"), (
            module.__name__,
            refused.value.status(),
        )
        assert "serves the models it was started with" in refused.value.message()
    for module, client in _clients(server):
        assert client.is_server_ready() and client.is_model_ready("alexnet")
        answer = client.infer("alexnet", [_pixels(module, images[:2])])
        assert answer.as_numpy("probabilities").shape == (2, 10)


@pytest.fixture(scope="module")
def trial_model(exported, tmp_path_factory):
    """model.onnx with the note the export step writes into a sample-trained model's metadata."""
    import onnx

    from alexnet_kfp.inference import TRIAL_KEY, trial_note

    proto = onnx.load(exported / "model.onnx")
    kept = {p.key: p.value for p in proto.metadata_props}
    onnx.helper.set_model_props(proto, {**kept, TRIAL_KEY: trial_note(20)})
    folder = tmp_path_factory.mktemp("trial")
    onnx.save(proto, folder / "model.onnx")
    return folder


def test_a_trial_model_says_so_in_its_metadata_and_every_answer(trial_model, server, images):
    said = "a trial model, trained on a sample of 20 images per class: not a model to ship"
    trial = Server(trial_model, trial_model / "server.log")
    try:
        with urllib.request.urlopen(f"{trial.url}/v2/models/alexnet", timeout=10) as response:
            metadata = json.loads(response.read())
        assert metadata["parameters"] == {"trial": said}
        assert metadata["inputs"][0]["name"] == "image"  # the rest as KServe answers it
        with urllib.request.urlopen(f"{server.url}/v2/models/alexnet", timeout=10) as response:
            assert "parameters" not in json.loads(response.read())  # a model to ship: nothing
        for module, client in _clients(trial):
            answer = client.infer("alexnet", [_pixels(module, images[:2])]).get_response()
            if module is grpcclient:
                assert answer.parameters["trial"].string_param == said
            else:
                assert answer["parameters"] == {"trial": said}
        for module, client in _clients(server):
            answer = client.infer("alexnet", [_pixels(module, images[:2])]).get_response()
            assert not (answer.parameters if module is grpcclient else answer.get("parameters"))
        v1 = json.dumps({"instances": images[:1].tolist()}).encode()
        status, body = trial.post("/v1/models/alexnet:predict", v1)
        assert status == 200 and body["trial"] == said and len(body["predictions"]) == 1
        assert trial.stop() == 0
        assert f"alexnet is {said}" in (trial_model / "server.log").read_text()
    finally:
        if trial.process.poll() is None:
            trial.process.kill()


def test_predict_says_a_trial_model_is_one(trial_model, images, tmp_path):
    Image.fromarray(images[0]).save(tmp_path / "a.png")
    said = "a trial model, trained on a sample of 20 images per class: not a model to ship"
    shown = run_cli("predict", tmp_path / "a.png", "--model", trial_model)
    assert shown.returncode == 0 and shown.stderr == f"alexnet-kfp predict: warning: {said}\n"
    as_json = run_cli("predict", tmp_path / "a.png", "--model", trial_model, "--json")
    assert [r["trial"] for r in json.loads(as_json.stdout)] == [said]
