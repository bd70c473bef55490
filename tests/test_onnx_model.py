"""OnnxClassifier and `alexnet-kfp predict` on real CIFAR images written as files, with no
TensorFlow."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from alexnet_kfp.cli.exits import EXIT_CLOSED_PIPE
from alexnet_kfp.data.npz import load_npz
from alexnet_kfp.inference.onnx_classifier import OnnxClassifier, load_image

from .cli import cli_args

pytestmark = pytest.mark.integration

COUNT = 12


@pytest.fixture(scope="module")
def classifier(exported) -> OnnxClassifier:
    return OnnxClassifier(exported / "model.onnx")


@pytest.fixture(scope="module")
def test_images(small_dataset) -> tuple[np.ndarray, np.ndarray]:
    test = load_npz(small_dataset / "test.npz")
    return test["x"][:COUNT], test["y"][:COUNT]


def test_predict_gives_probabilities_and_names(classifier, test_images):
    probabilities = classifier.predict(test_images[0])
    assert probabilities.shape == (COUNT, 10) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(1), 1.0, rtol=1e-5)
    assert classifier.class_names[0] == "airplane" and classifier.predict(
        test_images[0][0]
    ).shape == (1, 10)
    with pytest.raises(ValueError, match="uint8"):
        classifier.predict(test_images[0].astype(np.float32))


def test_unresized_png_and_jpeg_files_give_the_arrays_top1(classifier, test_images, tmp_path):
    images, _ = test_images
    expected = classifier.predict(images)
    png = [tmp_path / f"{i}.png" for i in range(COUNT)]
    jpeg = [tmp_path / f"{i}.jpg" for i in range(COUNT)]
    for image, p, j in zip(images, png, jpeg, strict=True):
        Image.fromarray(image).save(p)
        Image.fromarray(image).save(j, quality=100, subsampling=0)
    from_png = classifier.predict_files(png, top_k=10)
    assert [r.top[0][0] for r in from_png] == [
        classifier.class_names[i] for i in expected.argmax(1)
    ]
    # PNG is lossless: the probabilities themselves are identical.
    np.testing.assert_allclose(
        [dict(r.top)[classifier.class_names[0]] for r in from_png], expected[:, 0], rtol=1e-6
    )
    # JPEG at quality 100 moves pixels by a level or two: top-1 must hold wherever the margin is
    # clear.
    top2 = np.sort(expected, 1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 0.05
    from_jpeg = [r.top[0][0] for r in classifier.predict_files(jpeg)]
    assert clear.sum() >= 3
    assert [t for t, c in zip(from_jpeg, clear, strict=True) if c] == [
        classifier.class_names[i] for i in expected.argmax(1)[clear]
    ]


@pytest.mark.parametrize(
    "mode, size, fmt",
    [
        ("L", (32, 32), "PNG"),
        ("RGBA", (64, 48), "PNG"),
        ("P", (100, 100), "PNG"),
        ("CMYK", (200, 120), "JPEG"),
        ("RGB", (17, 17), "BMP"),
        ("RGB", (320, 240), "WEBP"),
        ("LA", (40, 40), "PNG"),
    ],
)
def test_any_size_and_mode_becomes_a_32x32_rgb_input(
    classifier, test_images, tmp_path, mode, size, fmt
):
    base = Image.fromarray(test_images[0][1]).resize(size, Image.Resampling.BICUBIC)
    path = tmp_path / f"image.{fmt.lower()}"
    base.convert(mode).save(path, format=fmt)
    array = load_image(path)
    assert array.shape == (32, 32, 3) and array.dtype == np.uint8
    (result,) = classifier.predict_files([path], top_k=3)
    assert result.error is None and len(result.top) == 3
    assert result.top[0][1] >= result.top[1][1] >= result.top[2][1]


def test_grayscale_becomes_three_equal_channels(tmp_path, test_images):
    Image.fromarray(test_images[0][0]).convert("L").save(tmp_path / "g.png")
    array = load_image(tmp_path / "g.png")
    assert (array[..., 0] == array[..., 1]).all() and (array[..., 1] == array[..., 2]).all()


def test_unreadable_files_get_their_own_error_and_the_rest_go_on(classifier, test_images, tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(test_images[0][0]).save(good)
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    results = classifier.predict_files([text, good, truncated])
    assert [r.error is None for r in results] == [False, True, False]
    assert "cannot read as an image" in results[0].error and results[2].error
    assert results[1].top


def test_predict_command_never_imports_tensorflow_or_kfp(exported, test_images, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for i, image in enumerate(test_images[0][:3]):
        Image.fromarray(image).save(folder / f"{i}.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    script = (
        "import sys, json\n"
        "from alexnet_kfp.cli import main\n"
        f"code = main(['predict', {str(folder)!r}, '--model', {str(exported / 'model.onnx')!r}, "
        "'--json'])\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules and 'kfp' not in "
        "sys.modules\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stderr  # one broken file
    report = json.loads(result.stdout)
    assert [r["error"] is None for r in report] == [True, True, True, False]
    assert "broken.jpg" in result.stderr and len(report[0]["top"]) == 3


def test_predict_into_a_closed_pipe_exits_quietly(exported, test_images, tmp_path):
    # `alexnet-kfp predict DIR | head -0`: the reader is gone before the first line
    folder = tmp_path / "images"
    folder.mkdir()
    for i, image in enumerate(test_images[0]):
        Image.fromarray(image).save(folder / f"{i}.png")
    for output in ([], ["--json"]):
        command = cli_args("predict", folder, "--model", exported / "model.onnx", *output)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        process.stdout.close()
        assert process.wait(timeout=120) == EXIT_CLOSED_PIPE, output
        assert process.stderr.read() == b"", output
