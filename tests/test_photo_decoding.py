"""Photos decoded at the size they are needed: a JPEG is decoded at the smallest DCT scale that
leaves its short side at least DRAFT_SIDE (256) pixels, and every image is held to one pixel limit,
counted as decoded, in `predict` and `serve` alike."""

import io

import numpy as np
import pytest
from PIL import Image

from alexnet_kfp.image_file import DRAFT_SIDE, MAX_PIXELS, _draft_for_crop, load_image

pytestmark = pytest.mark.unit


def _jpeg(width: int, height: int, smooth: bool = True) -> bytes:
    if smooth:
        y, x = np.mgrid[0:height, 0:width]
        pixels = np.stack(
            [x * 255 // width, y * 255 // height, (x + y) * 127 // (width + height)], -1
        )
    else:
        pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3))
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "size, decoded",
    [
        ((4000, 3000), (500, 375)),  # a 12 MP phone photo: 1/8
        ((8660, 5773), (1083, 722)),  # 50 MP: 1/8
        ((2048, 1536), (512, 384)),  # 1/4: 1/8 would leave the short side under 256 pixels
        ((1024, 768), (512, 384)),  # 1/2
        ((512, 512), (256, 256)),  # 1/2, exactly DRAFT_SIDE
        ((511, 511), (511, 511)),  # less than twice DRAFT_SIDE: decoded whole
        ((300, 20000), (300, 20000)),  # a strip: its short side allows no scaling
        ((32, 32), (32, 32)),
    ],
)
def test_a_jpeg_is_decoded_at_the_smallest_scale_that_covers_the_crop(size, decoded):
    with Image.open(io.BytesIO(_jpeg(*size))) as image:
        _draft_for_crop(image)
        assert image.size == decoded
        assert min(image.size) >= min(min(size), DRAFT_SIDE)
        image.load()  # the decoder honours it
        assert image.size == decoded


def test_drafted_and_whole_decoding_give_nearly_the_same_pixels():
    photo = _jpeg(2048, 1536)
    drafted = load_image(io.BytesIO(photo)).astype(int)
    whole = load_image(io.BytesIO(photo), draft=False).astype(int)
    assert drafted.shape == whole.shape == (32, 32, 3)
    assert np.abs(drafted - whole).max() <= 3  # a smooth photo: rounding, not content


def test_a_50_megapixel_jpeg_is_decoded_within_the_limit():
    assert load_image(io.BytesIO(_jpeg(8660, 5773))).shape == (32, 32, 3)
    with pytest.raises(ValueError, match=f"8660x5773 pixels is more than the {MAX_PIXELS:,}"):
        load_image(io.BytesIO(_jpeg(8660, 5773)), draft=False)


def _claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims `width` x `height` (its data ends long before)."""
    claimed = bytearray(_jpeg(64, 64))
    marker = claimed.index(b"\xff\xc0")  # the baseline frame header: height, then width
    claimed[marker + 5 : marker + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(claimed)


def test_the_limit_counts_the_pixels_a_jpeg_decodes_to():
    seen = []
    image = load_image(io.BytesIO(_claiming(20_000, 4_000)), admit=lambda w, h: seen.append((w, h)))
    assert seen == [(2500, 500)] and image.shape == (32, 32, 3)  # 80 MP claimed, decoded at 1/8


def test_an_image_over_the_limit_is_refused_before_it_is_decoded():
    png = io.BytesIO()
    Image.new("L", (5000, 4000)).save(png, "PNG")  # 20 MP in a few KB: PNG has no smaller decoding
    png.seek(0)
    with pytest.raises(ValueError) as refused:
        load_image(png)
    assert str(refused.value) == f"5000x4000 pixels is more than the {MAX_PIXELS:,} allowed"
