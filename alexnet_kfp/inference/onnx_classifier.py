"""OnnxClassifier: use an exported model with onnxruntime, numpy and Pillow only (no TensorFlow,
no kfp), e.g. inside your own service. Images are read by image_file.load_image (its docstring
says how).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime
from PIL import Image, UnidentifiedImageError

from alexnet_kfp.errors import InputError
from alexnet_kfp.image_file import IMAGE_SUFFIXES, SIZE, load_image
from alexnet_kfp.inference import FLOAT_FILE, INT8_FILE, TRIAL_KEY
from alexnet_kfp.untrusted import json_value

# load_image and SIZE are this module's too: consumers import them from here (docs/serving.md)
__all__ = ["SIZE", "FilePrediction", "OnnxClassifier", "load_image", "model_file"]


@dataclass
class FilePrediction:
    path: str
    # (class name, probability), best first
    top: list[tuple[str, float]] = field(default_factory=list)
    error: str | None = None


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
