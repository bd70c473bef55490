"""Image files whose headers promise more than their bytes hold: what a decoder is asked to
budget for before it decodes anything."""

import io

from PIL import Image

_SOF = (b"\xff\xc0", b"\xff\xc2")  # baseline and progressive start-of-frame markers


def declaring_jpeg(width: int, height: int, progressive: bool = False) -> bytes:
    """A small real JPEG (progressive or baseline) whose frame header declares `width` x
    `height`: every decoder reads the size there first."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 140, 200)).save(buffer, "JPEG", progressive=progressive)
    data = bytearray(buffer.getvalue())
    at = data.find(_SOF[1] if progressive else _SOF[0])
    data[at + 5 : at + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)
