"""Each image's decoding stays within its memory budget (MAX_DECODE_BYTES), reckoned from its
header before any pixel is decoded: a progressive JPEG, or a sequential one whose components come
in separate scans, holds every coefficient of the whole image whatever scale it is drafted to."""

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from alexnet_kfp.image_limits import MAX_DECODE_BYTES
from alexnet_kfp.inference.onnx_classifier import load_image

from .cli import run_cli_without_tensorflow
from .hostile_images import declaring_jpeg

_SCAN = b"\xff\xda"


def _second_scan(jpeg: bytes) -> bytes:
    """The JPEG with a second start-of-scan marker before its end, as a file whose components
    come in separate scans has."""
    scan = jpeg.index(_SCAN)
    header_length = int.from_bytes(jpeg[scan + 2 : scan + 4], "big")
    return jpeg[:-2] + jpeg[scan : scan + 2 + header_length] + b"\x00" * 16 + jpeg[-2:]


@pytest.mark.unit
@pytest.mark.parametrize("progressive", [True, False])
def test_a_buffered_jpeg_is_refused_by_what_its_header_declares(progressive):
    data = declaring_jpeg(13000, 13000, progressive)
    if not progressive:
        data = _second_scan(data)
    with pytest.raises(ValueError, match="13000x13000 JPEG would take 4[0-9]{2} MiB, more than"):
        load_image(io.BytesIO(data))


@pytest.mark.unit
def test_a_baseline_jpeg_of_one_scan_is_drafted_not_refused():
    # decoded at 1/8 (1625 x 1625): its header's size alone is no reason to refuse it
    assert load_image(io.BytesIO(declaring_jpeg(13000, 13000))).shape == (32, 32, 3)


@pytest.mark.integration
def test_predict_names_the_file_and_the_budget(exported, tmp_path):
    bomb = tmp_path / "bomb.jpg"
    bomb.write_bytes(declaring_jpeg(13000, 13000, progressive=True))
    result = run_cli_without_tensorflow("predict", bomb, "--model", exported)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert str(bomb) in result.stderr and "more than the 256 MiB allowed" in result.stderr


# The peak of this process's resident memory while the image is decoded, over what it held before
# (writing 5 to clear_refs resets the peak, VmHWM, to the current size).
_MEASURE = """
import io, sys
from alexnet_kfp.inference.onnx_classifier import load_image
def kib(field):
    status = open("/proc/self/status").read().split(field + ":")[1]
    return int(status.split()[0])
data = open(sys.argv[1], "rb").read()
open("/proc/self/clear_refs", "w").write("5")
before = kib("VmRSS")
load_image(io.BytesIO(data))
print((kib("VmHWM") - before) * 1024)
"""


@pytest.mark.unit
def test_an_accepted_progressive_photo_decodes_within_the_budget(tmp_path):
    # 24 megapixels, progressive: about 72 MB of coefficients held while it is drafted to 1/8
    ramp = np.linspace(0, 255, 6000, dtype=np.float32)
    pixels = np.stack([np.add.outer(ramp[:4000], ramp) / 2] * 3, axis=-1).astype(np.uint8)
    photo = tmp_path / "photo.jpg"
    Image.fromarray(pixels).save(photo, "JPEG", progressive=True, quality=80)
    del pixels
    measured = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(photo)], capture_output=True, text=True, timeout=300
    )
    assert measured.returncode == 0, measured.stderr
    grew = int(measured.stdout)
    assert 0 < grew <= MAX_DECODE_BYTES, grew
