"""The docs say what the project does. Every fenced `sh` and `python` block of README.md and docs/
runs as written against a real exported model (and a real `alexnet-kfp serve` for the serving
examples), in a folder holding the files the examples name; or it says on its first line what it
needs that a test cannot have (`# needs Docker`, `# needs a Kubeflow cluster`, `# takes hours`).
The `make` block runs as a dry run (`make -n`): the targets exist and say what they would do."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alexnet_kfp.data.npz import load_npz
from alexnet_kfp.pipeline.parameters import TRIAL_SETTINGS
from alexnet_kfp.pipeline.profiles import PROFILES

from .image_folders import class_files, write_folder
from .real_data import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
# An MLflow server with a registered model: test_tracking_run.py runs those blocks, after its run.
MLFLOW_MARKER = "# needs an MLflow server with a registered model"
# The npm registry (installing the JavaScript examples' packages) and a person at a browser:
# tests/test_js_examples.py drives the page in headless Chromium.
MARKERS = (
    "# needs Docker",
    "# needs a Kubeflow cluster",
    "# takes ",
    MLFLOW_MARKER,
    "# needs the npm registry",
    "# needs a browser",
)
EXAMPLES = REPO / "examples"
SERVE_PORTS = (8080, 8081)  # the ports the serving examples name: KServe's defaults


def _blocks() -> list[tuple[str, str, str]]:
    """(page:line, language, code) of every sh and python block."""
    found = []
    for page in PAGES:
        text = page.read_text()
        for match in _FENCE.finditer(text):
            if match.group(1) in ("sh", "python"):
                line = text[: match.start()].count("\n") + 1
                found.append((f"{page.relative_to(REPO)}:{line}", match.group(1), match.group(2)))
    return found


BLOCKS = _blocks()
RUNNABLE = [b for b in BLOCKS if not b[2].startswith(MARKERS)]


@pytest.mark.unit
def test_every_block_runs_or_says_what_it_needs():
    assert len(RUNNABLE) >= 8, [where for where, _, _ in RUNNABLE]
    for where, language, code in BLOCKS:
        first = code.splitlines()[0]
        assert language in ("sh", "python") and (
            first.startswith(MARKERS) or (where, language, code) in RUNNABLE
        )
    fences = [m.group(1) for page in PAGES for m in _FENCE.finditer(page.read_text())]
    assert all(fences), "a fence without a language: name it (sh, python, text, ...)"


@pytest.mark.unit
def test_the_sweeps_list_of_trial_settings_is_the_tables():
    text = " ".join((REPO / "docs" / "sweep.md").read_text().split())
    listed = ", ".join(f"`{name}`" for name in TRIAL_SETTINGS)
    assert f"A trial is a JSON object setting any of the training parameters: {listed}." in text


@pytest.mark.unit
def test_the_profile_table_is_the_profiles():
    lines = (REPO / "docs" / "training.md").read_text().splitlines()
    for profile in PROFILES:
        (row,) = [line for line in lines if line.startswith(f"| `{profile.name}` |")]
        values = ", ".join(f"`{key}={value}`" for key, value in profile.values.items())
        assert row == f"| `{profile.name}` | {profile.where} | {values} |"


# A camera-size photo: what a reader's phone makes, and what a command line cannot carry as base64.
PHOTO_SIDES, PHOTO_MIN_BYTES = (4032, 3024), 2 * 2**20


def camera_photo(
    pixels: np.ndarray, path: Path, seed: int = 0, sides: tuple[int, int] = PHOTO_SIDES
) -> Path:
    """`pixels` (32x32 RGB) as a photo file of at least PHOTO_MIN_BYTES (a 12-megapixel JPEG by
    default; the format by the suffix): the image filling the centre square, smoothly enlarged,
    with a sensor's grain."""
    width, height = sides
    centre = Image.fromarray(pixels).resize((height, height), Image.Resampling.BICUBIC)
    photo = Image.new("RGB", sides, (128, 128, 128))
    photo.paste(centre, ((width - height) // 2, 0))
    grain = np.random.default_rng(seed).integers(-8, 9, (height, width, 3), dtype=np.int16)
    grainy = np.clip(np.asarray(photo, dtype=np.int16) + grain, 0, 255).astype(np.uint8)
    Image.fromarray(grainy).save(path, quality=92)
    assert path.stat().st_size >= PHOTO_MIN_BYTES, path.stat().st_size
    return path


@pytest.fixture(scope="module")
def folder(exported, small_dataset, tmp_path_factory) -> Path:
    """Where the examples run: where `make run` leaves the reader (the clone's examples/,
    runs/latest/onnx_model: the exported model), photos of the test split of at least 2 MB under
    the names the examples use (cat.jpg a camera-size JPEG), a file that is no image, and a
    folder of class folders (photos/)."""
    here = tmp_path_factory.mktemp("docs")
    (here / "examples").symlink_to(EXAMPLES, target_is_directory=True)  # the clone's
    (here / "runs" / "latest").mkdir(parents=True)
    (here / "runs" / "latest" / "onnx_model").symlink_to(exported, target_is_directory=True)
    test = load_npz(small_dataset / "test.npz")
    first = {label: test["x"][np.flatnonzero(test["y"] == label)[0]] for label in (3, 8, 9)}
    camera_photo(first[3], here / "cat.jpg")
    camera_photo(first[8], here / "ship.png", 1, (1600, 1200))  # lossless: 2 MB at 2 megapixels
    camera_photo(first[9], here / "truck.png", 2, (1200, 1600))
    (here / "notes.txt").write_text("not an image")
    write_folder(here / "photos", class_files(["bolt", "nut", "washer"], 6))  # your own images
    return here


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def server(folder):
    """`alexnet-kfp serve --model runs/latest/onnx_model` on KServe's default ports, as the docs
    run it (its log in the folder: a pipe nobody reads would fill)."""
    busy = [port for port in SERVE_PORTS if not _port_free(port)]
    assert not busy, f"the serving examples name ports {SERVE_PORTS}; {busy} in use here"
    log = folder / "serve.log"
    with log.open("wb") as written:
        process = subprocess.Popen(
            [
                Path(sys.executable).parent / "alexnet-kfp",
                "serve",
                "--model",
                "runs/latest/onnx_model",
            ],
            cwd=folder,
            stdout=written,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    while _port_free(SERVE_PORTS[1]) or _port_free(SERVE_PORTS[0]):
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.5)
    yield process
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, log.read_text()[-3000:]


def run_block(
    language: str, code: str, cwd: Path, env: dict | None = None
) -> subprocess.CompletedProcess:
    """A block of the docs run as a reader runs it: this interpreter's `alexnet-kfp` on the PATH."""
    env = {**(env or os.environ)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    command = (
        [sys.executable, "-c", code]
        if language == "python"
        else ["bash", "-euo", "pipefail", "-c", code]
    )
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.integration
@pytest.mark.parametrize("where, language, code", RUNNABLE, ids=[b[0] for b in RUNNABLE])
def test_the_example_runs_as_written(where, language, code, folder, request):
    if all(line.startswith("make ") for line in code.splitlines() if line.strip()):
        for line in code.splitlines():
            target = line.split("#")[0].split()[1:]
            result = subprocess.run(
                ["make", "-n", *target], cwd=REPO, capture_output=True, text=True
            )
            assert result.returncode == 0, (where, result.stderr)
        return
    if "localhost:808" in code:
        request.getfixturevalue("server")
    if code.startswith("node ") and not (EXAMPLES / "node_modules").is_dir():
        pytest.skip("needs the JavaScript examples' packages: npm ci --prefix examples")
    result = run_block(language, code, folder)
    assert result.returncode == 0, f"{where}:\n{code}\n{result.stdout}\n{result.stderr}"
    assert '"error"' not in result.stdout, (where, result.stdout)  # a server's refusal, as JSON


@pytest.mark.integration
def test_the_onnxruntime_example_agrees_with_predict(folder):
    (where, _, code) = next(b for b in RUNNABLE if "import onnxruntime as ort" in b[2])
    alone = run_block("python", code, folder).stdout.split()
    predicted = run_block(
        "sh", "alexnet-kfp predict cat.jpg --model runs/latest/onnx_model --top-k 1 --json", folder
    )
    assert f'"{alone[0]}"' in predicted.stdout, (where, alone, predicted.stdout)
