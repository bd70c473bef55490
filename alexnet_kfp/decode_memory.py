"""What decoding an image will cost in memory, read from its header before any pixel is decoded.

A JPEG decoded at a DCT scale (onnx_classifier's draft) writes few pixels, but a progressive JPEG,
or a sequential one whose components come in separate scans, first gathers every DCT coefficient
of the whole image (libjpeg's full-image coefficient buffer: two bytes per coefficient, 64 per
8x8 block of each component at its sampling), whatever the scale it is then decoded at. Every
other image costs its decoded pixels.
"""

import math
from typing import BinaryIO

from PIL import Image

_SCAN = b"\xff\xda"  # a JPEG's start-of-scan marker; entropy-coded data never holds it
_CHUNK = 1 << 20


def decode_bytes(opened: Image.Image, declared: tuple[int, int], decoded: tuple[int, int]) -> int:
    """The bytes decoding `opened` (whose header declares `declared` pixels) at `decoded` pixels
    takes: its decoded pixels (4 bytes each, 8 for 16-bit modes), and for a buffered JPEG its
    coefficients at the declared size."""
    pixel = 8 if opened.mode.startswith("I;16") or opened.mode in ("I", "F") else 4
    total = decoded[0] * decoded[1] * pixel
    if opened.format == "JPEG" and (
        opened.info.get("progressive") or _scans(getattr(opened, "fp", None)) > 1
    ):
        total += _coefficient_bytes(opened, *declared)
    return total


def _coefficient_bytes(jpeg: Image.Image, width: int, height: int) -> int:
    layers = getattr(jpeg, "layer", None) or [(0, 1, 1, 0)] * len(jpeg.getbands())
    h_max = max(h for _, h, _, _ in layers)
    v_max = max(v for _, _, v, _ in layers)
    blocks = sum(
        math.ceil(width * h / h_max / 8) * math.ceil(height * v / v_max / 8)
        for _, h, v, _ in layers
    )
    return blocks * 64 * 2


def _scans(fp: BinaryIO | None) -> int:
    """How many scans a JPEG file holds (its start-of-scan markers), read in chunks and put back
    where it was."""
    if fp is None:
        return 1
    where, found, tail = fp.tell(), 0, b""
    try:
        fp.seek(0)
        while chunk := fp.read(_CHUNK):
            found += (tail + chunk).count(_SCAN)
            tail = chunk[-1:]
            if found > 1:
                break
    finally:
        fp.seek(where)
    return found
