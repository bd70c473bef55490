"""Folders of class folders as a user brings them: PNGs and JPEGs of mixed sizes and modes (RGB,
RGBA, greyscale, palette), each class a colour and a stripe direction of its own, so that a short
training tells them apart; the same files for the same seed."""

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

# (width, height, mode, format): what cameras, screenshots and scanners leave in a folder
KINDS = (
    (48, 40, "RGB", "PNG"),
    (64, 64, "RGB", "JPEG"),
    (33, 90, "RGBA", "PNG"),
    (120, 80, "L", "JPEG"),
    (32, 32, "P", "PNG"),
)


def picture(label: int, classes: int, index: int, rng: np.random.Generator) -> Image.Image:
    """An image of class `label`: its hue, its stripes' direction, and noise of its own."""
    width, height, mode, _ = KINDS[index % len(KINDS)]
    hue = label / classes
    colour = np.array([np.cos(2 * np.pi * (hue + k / 3)) for k in range(3)]) * 90 + 128
    y, x = np.mgrid[0:height, 0:width]
    stripes = np.sin((x if label % 2 else y) * (0.3 + 0.05 * (label % 7)))
    pixels = colour[None, None, :] * (0.75 + 0.25 * stripes[..., None])
    pixels += rng.normal(0, 12, pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    if mode == "RGBA":
        image = image.convert("RGBA")
        image.putalpha(200)
    elif mode in ("L", "P"):
        image = image.convert(mode) if mode == "L" else image.quantize(64)
    return image


def encoded(image: Image.Image, kind: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, KINDS[kind % len(KINDS)][3])
    return buffer.getvalue()


def class_files(classes: list[str], per_class: int, seed: int = 0) -> dict[str, bytes]:
    """{CLASS/NAME.png|jpg: bytes} for each class, `per_class` images each."""
    rng = np.random.default_rng(seed)
    files = {}
    for label, name in enumerate(classes):
        for index in range(per_class):
            suffix = ".png" if KINDS[index % len(KINDS)][3] == "PNG" else ".jpg"
            image = picture(label, len(classes), index, rng)
            files[f"{name}/{index:04d}{suffix}"] = encoded(image, index)
    return files


def write_folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def write_tar(path: Path, files: dict[str, bytes], top: str = "") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def write_zip(path: Path, files: dict[str, bytes], top: str = "") -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        for name, data in files.items():
            zipped.writestr(f"{top}/{name}" if top else name, data)
    return path
