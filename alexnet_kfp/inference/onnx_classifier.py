"""OnnxClassifier: use an exported model with onnxruntime, numpy and Pillow only (no TensorFlow,
no kfp), e.g. inside your own service.

Images of any size and mode are converted to 8-bit RGB (16-bit greyscale scaled down, transparency
composited on white, CMYK and palette images converted by Pillow, EXIF rotation applied, the first
frame of an animation), centre-cropped to a square so that objects keep their aspect ratio, and
resized to 32x32 with Pillow's antialiased bicubic filter. A 32x32 image is used as is. Only the
formats in FORMATS are decoded: any other file is refused before a decoder sees it. A JPEG is
decoded at the smallest of its DCT scales (1/2, 1/4, 1/8) that leaves it 256 pixels a side: a photo
costs a fraction of the time and memory of decoding it whole (docs/serving.md has the figures).
"""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import onnxruntime
from PIL import Image, ImageOps, UnidentifiedImageError

from alexnet_kfp.errors import InputError
from alexnet_kfp.inference import FLOAT_FILE, INT8_FILE, MAX_PIXELS, TRIAL_KEY
from alexnet_kfp.inference.decode_memory import MAX_DECODE_BYTES, decode_bytes
from alexnet_kfp.untrusted import json_value

SIZE = 32
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
# The decoders Pillow may use: photographs' formats. Others (EPS, which runs Ghostscript, PSD, ICO,
# ...) are refused before they are parsed.
FORMATS = ("PNG", "JPEG", "BMP", "WEBP", "GIF", "TIFF")


@dataclass
class FilePrediction:
    path: str
    # (class name, probability), best first
    top: list[tuple[str, float]] = field(default_factory=list)
    error: str | None = None


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


def model_file(path: str | Path, int8: bool = False) -> Path:
    """The model file to load: `path` itself, or inside an export directory model.onnx (float32) or,
    with `int8`, model.int8.onnx."""
    path = Path(path)
    if path.is_dir():
        chosen = path / (INT8_FILE if int8 else FLOAT_FILE)
        if not chosen.is_file():
            raise InputError(
                f"{path}: no {chosen.name} in it (expected a directory made by `alexnet-kfp export`"
                + (" with --data" if int8 else "")
                + ")"
            )
        return chosen
    if int8 and path.name != INT8_FILE:
        raise InputError(
            f"{path}: int8 picks {INT8_FILE} inside an export directory; give the directory"
        )
    return path


class OnnxClassifier:
    """`OnnxClassifier("model.onnx").predict_files(["cat.jpg"])`; `OnnxClassifier(export_dir,
    int8=True)` for the int8 model (smaller and faster on CPUs: docs/serving.md, "Which to
    use")."""

    def __init__(
        self,
        path: str | Path,
        providers: list[str] | None = None,
        int8: bool = False,
        threads: int | None = None,
    ):
        path = model_file(path, int8)
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:  # onnxruntime's default: one thread per physical core, for each call
            options.intra_op_num_threads = threads
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), options, providers=providers or ["CPUExecutionProvider"]
            )
        except Exception as e:  # onnxruntime raises its own Fail/InvalidProtobuf/NoSuchFile kinds
            raise InputError(
                f"{path}: not a readable ONNX model ({str(e).strip().splitlines()[-1][:200]})"
            ) from None
        self.path = path
        classes = _check_contract(self.session, path)
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        self.precision = self.metadata.get("precision", "float32")
        self.class_names = _class_names(self.metadata, classes, path)
        # what to say of a trial model (trained on a sample of the data), else None
        self.trial = self.metadata.get(TRIAL_KEY) or None
        self.input_name = self.session.get_inputs()[0].name

    def predict(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Probabilities (N, classes) for uint8 images (N, 32, 32, 3) or one image (32, 32, 3)."""
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[None]
        if images.dtype != np.uint8 or images.shape[1:] != (SIZE, SIZE, 3):
            raise ValueError(
                f"expected uint8 images of shape (N, 32, 32, 3), got {images.dtype} {images.shape}"
            )
        return np.concatenate(
            [
                self.session.run(None, {self.input_name: images[i : i + batch_size]})[0]
                for i in range(0, len(images), batch_size)
            ]
        )

    def top_k(self, probabilities: np.ndarray, k: int) -> list[tuple[str, float]]:
        order = np.argsort(-probabilities, kind="stable")[:k]
        return [(self.class_names[i], float(probabilities[i])) for i in order]

    def predict_files(self, paths: Iterable[str | Path], top_k: int = 3) -> list[FilePrediction]:
        """One FilePrediction per file; an unreadable file gets `error` and the others carry on."""
        results, images, readable = [], [], []
        for path in paths:
            result = FilePrediction(str(path))
            try:
                images.append(load_image(path))
                readable.append(result)
            except FileNotFoundError:
                result.error = "no such file"
            except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
                result.error = f"cannot read as an image: {e}"
            results.append(result)
        if images:
            for result, probabilities in zip(readable, self.predict(np.stack(images)), strict=True):
                result.top = self.top_k(probabilities, top_k)
        return results


def _describe(arguments) -> str:
    return ", ".join(f"{a.type.removeprefix('tensor(').rstrip(')')} {a.shape}" for a in arguments)


def _check_contract(session: onnxruntime.InferenceSession, path: Path) -> int:
    """The number of classes of a model that takes one uint8 input (N, 32, 32, 3) and gives one
    float (N, classes): any other model is refused before it is run, in one line saying what it
    takes and gives."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    fits = (
        len(inputs) == 1
        and inputs[0].type == "tensor(uint8)"
        and len(inputs[0].shape) == 4
        and list(inputs[0].shape[1:]) == [SIZE, SIZE, 3]
        and len(outputs) == 1
        and outputs[0].type == "tensor(float)"
        and len(outputs[0].shape) == 2
        and isinstance(outputs[0].shape[1], int)
        and outputs[0].shape[1] >= 1
    )
    if not fits:
        raise InputError(
            f"{path}: not a model of alexnet-kfp's contract: it takes {_describe(inputs)} and "
            f"gives {_describe(outputs)}; expected uint8 [N, {SIZE}, {SIZE}, 3] in, float "
            "[N, classes] out (a model made by `alexnet-kfp export`)"
        )
    return outputs[0].shape[1]


def _class_names(metadata: dict, classes: int, path: Path) -> list[str]:
    """The class names the model carries (metadata "class_names"), else "0", "1", ..."""
    try:
        names = json_value(metadata.get("class_names", "null"), f"{path}: class_names")
    except InputError:
        names = ""
    if names is None:
        return [str(i) for i in range(classes)]
    if not (
        isinstance(names, list) and len(names) == classes and all(isinstance(n, str) for n in names)
    ):
        raise InputError(
            f"{path}: its class_names metadata is not a list of {classes} names, one per output"
        )
    return names


def expand_image_paths(arguments: Iterable[str | Path]) -> list[Path]:
    """Files as given, and the image files (by suffix, sorted) of any directory given; a directory
    without one is refused, so that nothing printed never means nothing found."""
    paths = []
    for argument in map(Path, arguments):
        if argument.is_dir():
            found = sorted(
                p for p in argument.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
            if not found:
                suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
                raise InputError(
                    f"{argument}: no image files in this folder (looked for {suffixes})"
                )
            paths += found
        else:
            paths.append(argument)
    return paths
