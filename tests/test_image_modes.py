"""Images of every mode give the model what their 8-bit RGB version gives, through the one loader
that predict, serve and OnnxClassifier share; formats outside the allow-list are refused before a
decoder runs."""

import io

import numpy as np
import pytest
from PIL import Image, ImageOps, UnidentifiedImageError

from alexnet_kfp.image_file import FORMATS, load_image

pytestmark = pytest.mark.unit

RNG = np.random.default_rng(0)
PHOTO = RNG.integers(0, 256, (48, 40, 3), dtype=np.uint8)  # not square: the crop matters
GREY = RNG.integers(0, 256, (48, 40), dtype=np.uint8)


def _file(image: Image.Image, fmt: str, **options) -> io.BytesIO:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    buffer.seek(0)
    return buffer


def _rgb_version(image: Image.Image) -> np.ndarray:
    """The 8-bit RGB version of an image, through the loader (a lossless PNG)."""
    return load_image(_file(image.convert("RGB"), "PNG"))


def test_16_bit_greyscale_is_scaled_not_clipped():
    sixteen = Image.fromarray(GREY.astype(np.uint16) * 257)  # 8-bit v as 16-bit 257 * v
    assert sixteen.mode.startswith("I")
    loaded = load_image(_file(sixteen, "PNG"))
    assert np.array_equal(loaded, _rgb_version(Image.fromarray(GREY)))
    assert loaded.mean() < 250  # was: every pixel 255, the answer for an all-white image


def test_a_dark_16_bit_png_stays_dark():
    dark = Image.fromarray(np.full((48, 40), 300, dtype=np.uint16))  # 300 of 65,535
    assert load_image(_file(dark, "PNG")).max() <= 2  # near black, not 255


@pytest.mark.parametrize("mode", ["L", "P", "RGB"])
def test_modes_without_alpha_give_their_rgb_version(mode):
    image = Image.fromarray(PHOTO).convert(mode)
    assert np.array_equal(load_image(_file(image, "PNG")), _rgb_version(image))


def test_alpha_is_composited_on_white_in_every_mode():
    alpha = np.where(np.arange(40) < 20, 255, 0).astype(np.uint8)[None].repeat(48, 0)
    for mode in ("RGBA", "LA"):
        image = Image.fromarray(np.dstack([PHOTO, alpha])).convert(mode)
        loaded = load_image(_file(image, "PNG"))
        white = Image.new("RGBA", image.size, "white")
        expected = Image.alpha_composite(white, image.convert("RGBA"))
        assert np.array_equal(loaded, _rgb_version(expected)), mode


def test_cmyk_gives_its_rgb_version():
    image = Image.fromarray(PHOTO).convert("CMYK")
    assert np.array_equal(load_image(_file(image, "TIFF")), _rgb_version(image))


def test_exif_rotation_is_applied():
    upright = Image.fromarray(PHOTO)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the stored pixels are to be turned 90 degrees clockwise
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    rotated = load_image(_file(stored, "PNG", exif=exif))
    assert np.array_equal(rotated, _rgb_version(ImageOps.exif_transpose(_open(stored, exif))))
    assert np.array_equal(rotated, _rgb_version(upright))


def _open(image: Image.Image, exif: Image.Exif) -> Image.Image:
    return Image.open(_file(image, "PNG", exif=exif))


def test_an_animation_gives_its_first_frame():
    frames = [Image.fromarray(PHOTO), Image.fromarray(255 - PHOTO)]
    animated = _file(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    first = _file(frames[0], "GIF")
    assert np.array_equal(load_image(animated), load_image(first))


@pytest.mark.parametrize("fmt", ["EPS", "ICO", "PPM", "TGA", "PCX"])
def test_other_formats_are_refused_before_decoding(fmt):
    assert fmt not in FORMATS
    with pytest.raises(UnidentifiedImageError):
        load_image(_file(Image.fromarray(PHOTO), fmt))
