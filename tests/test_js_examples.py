"""The model consumed from JavaScript: examples/pixels.js makes the pixels Pillow makes, the Node.js
example (onnxruntime-node) gives onnxruntime-Python's probabilities, and the browser page
(onnxruntime-web), driven in headless Chromium, answers a picked photo as `predict` does. The
packages are the ones examples/package-lock.json pins (`make test` runs `npm ci`)."""

import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from alexnet_kfp.inference.onnx_classifier import OnnxClassifier, load_image

from .cli import run_cli
from .hostile_images import declaring_jpeg
from .http_server import StaticFiles
from .real_data import REPO
from .test_docs import camera_photo

EXAMPLES = REPO / "examples"
NODE, CHROMIUM = shutil.which("node"), shutil.which("chromium") or shutil.which("chromium-browser")
INSTALLED = (EXAMPLES / "node_modules" / "onnxruntime-node").is_dir()
pytestmark = pytest.mark.skipif(
    not (NODE and INSTALLED),
    reason="needs Node.js and the examples' packages: apt-get install nodejs npm; make test",
)
HARNESS = REPO / "tests" / "js"


def _node(script: str, *args: object, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [NODE, script, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def _rgba(size: tuple[int, int], seed: int, transparent: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    width, height = size
    pixels = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    pixels[..., 3] = rng.choice([0, 1, 127, 254, 255], (height, width)) if transparent else 255
    return pixels


# Wide, tall (Pillow 13 resamples those vertically first), square, up- and down-scaled, 32x32,
# one pixel thick, a phone photo's size.
SIZES = [(33, 100), (100, 33), (17, 200), (40, 41), (41, 40), (49, 40), (40, 49), (31, 31),
         (32, 32), (20, 33), (5, 5), (1, 300), (750, 1000), (1000, 750), (4032, 3024)]  # fmt: skip


@pytest.mark.unit
def test_the_javascript_pixels_are_pillows(tmp_path):
    cases, expected = [], []
    rng = np.random.default_rng(7)
    sizes = SIZES + [tuple(int(v) for v in rng.integers(1, 700, 2)) for _ in range(20)]
    for i, size in enumerate(sizes):
        pixels = _rgba(size, i, transparent=i % 3 == 0)
        raw = tmp_path / f"{i}.rgba"
        pixels.tofile(raw)
        cases.append({"width": size[0], "height": size[1], "file": str(raw)})
        png = io.BytesIO()
        Image.fromarray(pixels, "RGBA").save(png, "PNG")
        expected.append(load_image(io.BytesIO(png.getvalue())).reshape(-1).tolist())
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    made = _node(str(HARNESS / "model_input.mjs"), tmp_path / "cases.json")
    assert made.returncode == 0, made.stderr
    for case, got, wanted in zip(cases, json.loads(made.stdout), expected, strict=True):
        assert got == wanted, case  # every pixel, bit for bit


@pytest.mark.unit
@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_jpegs_exif_orientation_is_applied_as_pillow_applies_it(orientation, tmp_path):
    pixels = _rgba((7, 4), orientation, transparent=False)
    exif = Image.Exif()
    exif[0x0112] = orientation
    photo = tmp_path / "photo.jpg"
    Image.fromarray(pixels[..., :3]).save(photo, exif=exif)
    raw = tmp_path / "pixels.rgba"
    pixels.tofile(raw)
    turned = _node(str(HARNESS / "upright.mjs"), photo, raw, 7, 4)
    assert turned.returncode == 0, turned.stderr
    said = json.loads(turned.stdout)
    assert said["orientation"] == orientation  # read from the JPEG's EXIF
    # Pillow's exif_transpose of the same pixels (a PNG carrying the same EXIF)
    png = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(png, "PNG", exif=exif)
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(png.getvalue())))
    assert (said["width"], said["height"]) == upright.size
    assert said["data"] == np.asarray(upright).reshape(-1).tolist()


@pytest.fixture(scope="module")
def photos(small_dataset, tmp_path_factory) -> dict[str, Path]:
    """Test-split images as a user has them: 32x32 and 300x200 PNGs (lossless: both runtimes see
    the same pixels), a 480x360 JPEG and a 12-megapixel camera JPEG."""
    from alexnet_kfp.data.npz import load_npz

    folder = tmp_path_factory.mktemp("photos")
    test = load_npz(small_dataset / "test.npz")
    x, y = test["x"], test["y"]
    first = {label: x[np.flatnonzero(y == label)[0]] for label in range(10)}
    made = {}
    Image.fromarray(first[8]).save(made.setdefault("ship", folder / "ship.png"))
    wide = Image.fromarray(first[9]).resize((300, 200), Image.Resampling.BICUBIC)
    wide.save(made.setdefault("truck", folder / "truck.png"))
    small = Image.fromarray(first[1]).resize((480, 360), Image.Resampling.BICUBIC)
    small.save(made.setdefault("car", folder / "car.jpg"), quality=90)
    made["cat"] = camera_photo(first[3], folder / "cat.jpg")
    return made


def _predicted(export_dir: Path, paths: list[Path], *flags: str) -> list[dict]:
    """`predict --json` with every class's probability."""
    said = run_cli("predict", *paths, "--model", export_dir, "--json", "--top-k", 10, *flags)
    assert said.returncode == 0, said.stderr
    return json.loads(said.stdout)


@pytest.mark.integration
@pytest.mark.parametrize("int8", [False, True], ids=["float32", "int8"])
def test_node_gives_onnxruntime_pythons_probabilities(exported, photos, int8):
    names = ["ship", "truck", "car", "cat"]
    flags = ["--int8"] if int8 else []
    ran = _node(
        "examples/node/classify.js", exported, *(photos[n] for n in names), "--json", *flags
    )
    assert ran.returncode == 0 and ran.stderr == "", ran.stderr
    results = {Path(r["path"]).stem: r for r in json.loads(ran.stdout)}
    classifier = OnnxClassifier(exported, int8=int8)
    for name in ("ship", "truck"):  # PNG: the same pixels in both runtimes
        python = classifier.predict(load_image(photos[name]))[0]
        assert np.abs(np.array(results[name]["probabilities"]) - python).max() <= 1e-5, name
    # JPEG: Node's pure-JavaScript decoder is not libjpeg-turbo, and `predict` decodes a large one
    # at a DCT scale: probabilities near, the same answer unless predict's two best nearly tie
    for answer in _predicted(exported, [photos["car"], photos["cat"]], *flags):
        node = np.array(results[Path(answer["path"]).stem]["probabilities"])
        _assert_same_answer(node, answer, classifier.class_names, 0.01)


def _assert_same_answer(probabilities: np.ndarray, predicted: dict, names: list, atol: float):
    """`probabilities` within `atol` of `predict --json --top-k 10`'s, and its best class
    predict's, unless predict's two best classes are within twice the difference found."""
    said = {t["label"]: t["probability"] for t in predicted["top"]}
    differs = np.abs(probabilities - np.array([said[name] for name in names])).max()
    assert differs <= atol, (predicted["path"], differs)
    best, second = predicted["top"][0]["probability"], predicted["top"][1]["probability"]
    if best - second > 2 * differs:
        assert names[int(probabilities.argmax())] == predicted["top"][0]["label"], predicted


@pytest.mark.integration
def test_node_reports_each_bad_file_and_a_trial_model(exported, photos, tmp_path):
    trial = tmp_path / "trial"
    shutil.copytree(exported, trial)
    record = json.loads((trial / "export.json").read_text())
    record["metadata"]["trial"] = "a trial model, trained on a sample of 20 images per class"
    (trial / "export.json").write_text(json.dumps(record))
    (tmp_path / "notes.txt").write_text("not an image")
    huge = tmp_path / "huge.png"
    Image.new("L", (5000, 4000)).save(huge)  # 20 MP: refused from its header
    bomb = tmp_path / "bomb.jpg"  # a progressive JPEG's header declaring 13000 x 13000
    bomb.write_bytes(declaring_jpeg(13000, 13000, progressive=True))
    ran = _node(
        "examples/node/classify.js", trial, photos["ship"], tmp_path / "notes.txt",
        tmp_path / "gone.jpg", huge, bomb,
    )  # fmt: skip
    assert ran.returncode == 2
    assert ran.stdout.startswith(f"{photos['ship']}: ") and len(ran.stdout.splitlines()) == 1
    assert ran.stderr.splitlines() == [
        "classify: warning: a trial model, trained on a sample of 20 images per class",
        f"classify: error: {tmp_path / 'notes.txt'}: cannot read as an image: not a PNG or JPEG "
        "file",
        f"classify: error: {tmp_path / 'gone.jpg'}: no such file",
        f"classify: error: {huge}: cannot read as an image: 5000x4000 pixels is more than the "
        "16777216 allowed",
        f"classify: error: {bomb}: cannot read as an image: 13000x13000 pixels is more than the "
        "16777216 allowed",
    ]
    assert _node("examples/node/classify.js", exported).returncode == 2  # no image: the usage


@pytest.fixture(scope="module")
def site(exported, tmp_path_factory):
    """The clone as a user serves it to the browser: examples/ and runs/latest/onnx_model, over a
    real HTTP server on 127.0.0.1."""
    root = tmp_path_factory.mktemp("site")
    (root / "examples").symlink_to(EXAMPLES, target_is_directory=True)
    (root / "runs" / "latest").mkdir(parents=True)
    (root / "runs" / "latest" / "onnx_model").symlink_to(exported, target_is_directory=True)
    with StaticFiles(root) as server:
        yield server.url("/examples/browser/")


def _pick(page: str, photo: Path | str) -> dict:
    ran = _node(str(HARNESS / "pick_photo.mjs"), EXAMPLES, page, photo, CHROMIUM)
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


@pytest.mark.integration
@pytest.mark.skipif(not CHROMIUM, reason="needs Chromium: apt-get install chromium")
def test_the_browser_page_answers_a_picked_photo_as_predict_does(exported, photos, site):
    for name in ("car", "cat", "truck"):
        page = _pick(site, photos[name])
        assert page["console"] == [] and page["trial"] == "", page
        answer = page["result"]
        (predicted,) = _predicted(exported, [photos[name]])
        assert page["status"] == f"{photos[name].name}: {answer['top'][0]['label']}"
        browser = np.array(answer["probabilities"])
        # the browser decodes as Pillow does: whole, the same probabilities within 1e-5
        whole = OnnxClassifier(exported).predict(load_image(photos[name], draft=False))[0]
        assert np.abs(browser - whole).max() <= 1e-5, name
        # as `predict`: a large JPEG it decodes at 1/8 (DCT scaling), which no browser can
        atol = 1e-3 if name == "cat" else 1e-5
        _assert_same_answer(browser, predicted, OnnxClassifier(exported).class_names, atol)


@pytest.mark.integration
@pytest.mark.skipif(not CHROMIUM, reason="needs Chromium: apt-get install chromium")
def test_the_browser_page_says_what_is_wrong(site, tmp_path):
    missing = _pick(site + "?model=/runs/none/", "-")
    assert missing["status"].startswith("cannot load the model: ") and "404" in missing["status"]
    (tmp_path / "notes.txt").write_text("not an image")
    refused = _pick(site, tmp_path / "notes.txt")
    assert refused["status"].startswith("cannot classify notes.txt: "), refused
    bomb = tmp_path / "bomb.jpg"  # refused from its header: the browser would decode it whole
    bomb.write_bytes(declaring_jpeg(13000, 13000, progressive=True))
    refused = _pick(site, bomb)
    assert refused["status"] == (
        "cannot classify bomb.jpg: 13000x13000 pixels is more than the 16777216 allowed"
    ), refused
