"""The one image loader: any image file `predict`, `serve` and the data step read becomes the
model's input, uint8 (32, 32, 3) RGB, the same way everywhere.

Images of any size and mode are converted to 8-bit RGB (16-bit greyscale scaled down, transparency
composited on white, CMYK and palette images converted by Pillow, EXIF rotation applied, the first
frame of an animation), centre-cropped to a square so that objects keep their aspect ratio, and
resized to 32x32 with Pillow's antialiased bicubic filter. A 32x32 image is used as is. Only the
formats in FORMATS are decoded: any other file is refused before a decoder sees it. A JPEG is
decoded at the smallest of its DCT scales (1/2, 1/4, 1/8) that leaves it 256 pixels a side: a photo
costs a fraction of the time and memory of decoding it whole (docs/serving.md has the figures).
"""

import math
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

from alexnet_kfp.decode_memory import decode_bytes
from alexnet_kfp.image_limits import MAX_DECODE_BYTES, MAX_PIXELS

SIZE = 32
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
# The decoders Pillow may use: photographs' formats. Others (EPS, which runs Ghostscript, PSD, ICO,
# ...) are refused before they are parsed.
FORMATS = ("PNG", "JPEG", "BMP", "WEBP", "GIF", "TIFF")


def _as_8_bit(image: Image.Image) -> Image.Image:
    """16- and 32-bit greyscale as 8-bit "L": 16-bit values divided by 257 (257 * v is 8-bit v's
    16-bit twin). Pillow's own conversion clips them at 255, turning a 16-bit photo white."""
    if not (image.mode.startswith("I") or image.mode == "F"):
        return image
    values = np.asarray(image, dtype=np.float64)
    sixteen_bit = image.mode.startswith("I;16") or (image.mode == "I" and values.max() > 255)
    if sixteen_bit:
        values = values / 257
    return Image.fromarray(np.clip(np.round(values), 0, 255).astype(np.uint8), "L")


def load_image(
    source: str | Path | BinaryIO,
    admit: Callable[[int, int], None] | None = None,
    draft: bool = True,
) -> np.ndarray:
    """An image file (a path, or an open binary file such as io.BytesIO of PNG/JPEG bytes) as the
    model's input: uint8 (32, 32, 3) RGB. An image that would decode to more than MAX_PIXELS is
    refused (ValueError) before it is decoded; `admit` is then given the width and height it will
    decode at, to refuse it by raising (a server's limit per request: a few KB of PNG can claim
    gigapixels). `draft=False` decodes a JPEG whole (bench/jpeg_draft.py compares the two)."""
    with Image.open(source, formats=FORMATS) as opened:
        declared = opened.size
        if draft and opened.format == "JPEG":
            _draft_for_crop(opened)
        width, height = opened.size  # what will be decoded
        if width * height > MAX_PIXELS:
            raise ValueError(f"{width}x{height} pixels is more than the {MAX_PIXELS:,} allowed")
        cost = decode_bytes(opened, declared, (width, height))
        if cost > MAX_DECODE_BYTES:
            raise ValueError(
                f"decoding this {declared[0]}x{declared[1]} {opened.format} would take "
                f"{cost / 2**20:,.0f} MiB, more than the {MAX_DECODE_BYTES >> 20} MiB allowed "
                "for one image"
            )
        if admit is not None:
            admit(width, height)
        image: Image.Image = _as_8_bit(ImageOps.exif_transpose(opened))
        if image.mode in ("RGBA", "LA", "PA") or (
            image.mode == "P" and "transparency" in image.info
        ):
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        image = image.convert("RGB")
        if image.size != (SIZE, SIZE):
            image = ImageOps.fit(image, (SIZE, SIZE), method=Image.Resampling.BICUBIC)
        return np.asarray(image, dtype=np.uint8)


# The least a JPEG's short side is decoded at: eight times the model's side, so that the bicubic
# resize still does most of the reduction, as from the whole photo (at four times, one test
# image in a thousand changed its top-1 class: bench/jpeg_draft.py). A phone photo is still
# decoded at 1/8.
DRAFT_SIDE = 8 * SIZE


def _draft_for_crop(jpeg: Image.Image) -> None:
    """Have the JPEG decoder scale by 1/2, 1/4 or 1/8 while decoding: the largest of those that
    leaves the centre square at least DRAFT_SIDE pixels a side (Pillow's draft picks it from the
    size asked for). The resize then works from far fewer pixels, as from the whole image."""
    width, height = jpeg.size
    shrink = min(width, height) / DRAFT_SIDE
    if shrink >= 2:
        jpeg.draft(None, (math.ceil(width / shrink), math.ceil(height / shrink)))
