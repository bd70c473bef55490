"""The server batches concurrent requests (adaptive batching, on by default) and decodes photos at
the size they are needed: interleaved requests of different sizes, over REST (JSON and binary)
and gRPC at once, get the answers the same requests get alone; a client that gives up leaves the
others right; a 50-megapixel JPEG is accepted by `serve` and `predict` alike, and an image both
refuse is refused with the same reason."""

import io
import json
import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from PIL import Image
from tritonclient.utils import InferenceServerException

from alexnet_kfp.inference.onnx_classifier import OnnxClassifier, load_image

from .cli import run_cli
from .test_serve import Server, _pixels

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def batching(exported, tmp_path_factory):
    """A server that gathers up to 32 images per call and waits up to 20 ms for company."""
    running = Server(
        exported,
        tmp_path_factory.mktemp("batching") / "server.log",
        "--max-batch-size",
        "32",
        "--max-batch-delay-ms",
        "20",
    )
    yield running
    assert running.stop() == 0


@pytest.fixture(scope="module")
def test_images(small_dataset):
    from alexnet_kfp.data.npz import load_split

    return load_split(small_dataset, "test")[0][:200]


def _ask(server, protocol: str, model: str, images: np.ndarray) -> np.ndarray:
    if protocol == "grpc":
        client = grpcclient.InferenceServerClient(f"127.0.0.1:{server.grpc_port}")
        return client.infer(model, [_pixels(grpcclient, images)]).as_numpy("probabilities")
    client = httpclient.InferenceServerClient(f"127.0.0.1:{server.http_port}")
    tensor = httpclient.InferInput("image", list(images.shape), "UINT8")
    tensor.set_data_from_numpy(images, binary_data=protocol == "binary")
    output = httpclient.InferRequestedOutput("probabilities", binary_data=protocol == "binary")
    return client.infer(model, [tensor], outputs=[output]).as_numpy("probabilities")


@pytest.mark.parametrize("model, int8", [("alexnet", False), ("alexnet_int8", True)])
def test_interleaved_requests_get_the_answers_they_get_alone(
    batching, exported, test_images, model, int8
):
    rng = random.Random(7)
    requests = []
    start = 0
    for i in range(96):  # 1 to 9 images each, over the three ways of asking
        size = rng.randint(1, 9)
        requests.append(((start % 190), size, ("grpc", "json", "binary")[i % 3]))
        start += size
    alone = OnnxClassifier(exported, int8=int8)

    def answer(request) -> float:
        first, size, protocol = request
        images = test_images[first : first + size]
        got = _ask(batching, protocol, model, images)
        return float(np.abs(got - alone.predict(images)).max())

    with ThreadPoolExecutor(24) as pool:
        differences = list(pool.map(answer, requests))
    assert max(differences) <= 1e-6, differences


def test_clients_that_give_up_leave_the_others_right(batching, exported, test_images):
    alone = OnnxClassifier(exported).predict(test_images[:8])

    def impatient(_: int) -> str:
        client = grpcclient.InferenceServerClient(f"127.0.0.1:{batching.grpc_port}")
        big = np.repeat(test_images[:1], 1000, axis=0)
        try:
            client.infer("alexnet", [_pixels(grpcclient, big)], client_timeout=0.001)
        except InferenceServerException as e:
            return e.status() or "gave up"
        return "answered"

    def patient(i: int) -> float:
        got = _ask(batching, "grpc", "alexnet", test_images[i : i + 1])
        return float(np.abs(got - alone[i : i + 1]).max())

    with ThreadPoolExecutor(16) as pool:
        given_up = pool.map(impatient, range(8))
        differences = list(pool.map(patient, list(range(8)) * 4))
    assert "StatusCode.DEADLINE_EXCEEDED" in set(given_up)
    assert max(differences) <= 1e-6 and batching.ready()


def _camera_jpeg(width: int, height: int) -> bytes:
    """A smooth photo of a camera's size (a few MB), the classes' colours in it at random."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    pixels = np.stack(
        [128 + 100 * np.sin(x / 700), 128 + 90 * np.cos(y / 500), 128 + 60 * np.sin((x + y) / 900)],
        axis=-1,
    )
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _grpc_bytes(server, raw: bytes) -> np.ndarray:
    client = grpcclient.InferenceServerClient(f"127.0.0.1:{server.grpc_port}")
    tensor = grpcclient.InferInput("image", [1], "BYTES")
    tensor.set_data_from_numpy(np.array([raw], dtype=np.object_))
    return client.infer("alexnet", [tensor]).as_numpy("probabilities")


def test_a_50_megapixel_jpeg_is_accepted_by_serve_and_predict_alike(batching, exported, tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(_camera_jpeg(8660, 5773))
    expected = OnnxClassifier(exported).predict(load_image(photo)[None])
    np.testing.assert_allclose(_grpc_bytes(batching, photo.read_bytes()), expected, atol=1e-6)
    printed = run_cli("predict", photo, "--model", exported, "--json", "--top-k", "10")
    assert printed.returncode == 0, printed.stderr
    (answer,) = json.loads(printed.stdout)
    top = {entry["label"]: entry["probability"] for entry in answer["top"]}
    names = OnnxClassifier(exported).class_names
    assert max(abs(top[names[i]] - float(p)) for i, p in enumerate(expected[0])) <= 1e-6


def test_an_image_both_refuse_is_refused_for_the_same_reason(batching, exported, tmp_path):
    large = tmp_path / "large.png"
    Image.new("L", (5000, 4000)).save(large)  # 20 megapixels of PNG: no smaller decoding
    printed = run_cli("predict", large, "--model", exported)
    reason = "5000x4000 pixels is more than the 16,777,216 allowed"
    assert printed.returncode == 2 and reason in printed.stderr
    with pytest.raises(InferenceServerException, match=reason):
        _grpc_bytes(batching, large.read_bytes())
