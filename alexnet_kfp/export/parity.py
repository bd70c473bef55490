"""verify(): do Keras and onnxruntime compute the same probabilities on every test image?

Fails (raises ParityError) when the largest |delta probability| exceeds `atol`, or when the two
disagree on a top-1 class although Keras's own top-2 margin was larger than `atol` (a real
difference, not a tie that rounding may break either way). Writes parity.json either way.
"""

import json
import platform
from pathlib import Path

import numpy as np

from alexnet_kfp import __version__
from alexnet_kfp.data.npz import load_split
from alexnet_kfp.errors import InputError
from alexnet_kfp.evaluate.predict import predict_keras, predict_onnx
from alexnet_kfp.export import DEFAULT_ATOL, check_atol
from alexnet_kfp.files import atomic_output_dir, file_digest


class ParityError(RuntimeError):
    """The ONNX model does not compute what the Keras model computes."""


def compare(keras_p: np.ndarray, onnx_p: np.ndarray, atol: float) -> dict:
    delta = np.abs(keras_p - onnx_p)
    top2 = np.sort(keras_p, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    differ = np.flatnonzero(keras_p.argmax(1) != onnx_p.argmax(1))
    disagreements = [{"index": int(i), "keras_class": int(keras_p[i].argmax()), "onnx_class": int(onnx_p[i].argmax()),
                      "keras_top2_margin": float(margin[i]), "tie": bool(margin[i] <= atol)} for i in differ]
    real = [d for d in disagreements if not d["tie"]]
    problems = []
    if delta.max() > atol:
        problems.append(f"max |delta p| {delta.max():.3g} > atol {atol:g}")
    if real:
        problems.append(f"{len(real)} image(s) get another top-1 class although Keras's margin exceeded atol "
                        f"(first: test image {real[0]['index']})")
    return {
        "images": int(len(keras_p)),
        "atol": atol,
        "max_abs_diff": float(delta.max()),
        "mean_abs_diff": float(delta.mean()),
        "argmax_agreement": float(1 - len(differ) / len(keras_p)),
        "disagreements": disagreements,
        "passed": not problems,
        "reason": "; ".join(problems) or f"max |delta p| {delta.max():.3g} <= atol {atol:g}, top-1 identical",
    }


def verify(dataset_dir: str | Path, model_dir: str | Path, onnx_dir: str | Path, atol: float = DEFAULT_ATOL,
           out_dir: str | Path | None = None) -> dict:
    """Compare on the whole test split; write parity.json into `out_dir` (default: the ONNX dir)."""
    check_atol(atol)
    keras_path, onnx_path = Path(model_dir) / "model.keras", Path(onnx_dir) / "model.onnx"
    for path, made_by in ((keras_path, "train"), (onnx_path, "export")):
        if not path.is_file():
            raise InputError(f"{path} not found: expected a directory made by the {made_by} step")
    x, _ = load_split(Path(dataset_dir), "test")
    result = compare(predict_keras(keras_path, x), predict_onnx(onnx_path, x), atol)
    result.update({
        "keras_sha256": file_digest(keras_path), "onnx_sha256": file_digest(onnx_path),
        "versions": {"alexnet-kfp": __version__, "numpy": np.__version__, "python": platform.python_version()},
    })
    text = json.dumps(result, indent=2) + "\n"
    if out_dir is None:
        (Path(onnx_dir) / "parity.json").write_text(text)
    else:
        with atomic_output_dir(out_dir) as staging:
            (staging / "parity.json").write_text(text)
    if not result["passed"]:
        raise ParityError(f"ONNX model {onnx_path} disagrees with {keras_path}: {result['reason']}")
    return result
