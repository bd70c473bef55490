"""Probabilities of a saved model on uint8 images: Keras for model.keras, onnxruntime (through
OnnxClassifier) for model.onnx. Shared by evaluate (baselines) and parity; imports no
scikit-learn."""

from pathlib import Path

import keras
import numpy as np

from alexnet_kfp.errors import InputError


def load_keras_model(path: Path) -> keras.Model:
    """model.keras, or one line naming the file (Keras says "File not found" for a garbage file)
    or saying how its inputs and outputs differ from the network's."""
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as e:  # Keras raises ValueError, OSError, zipfile errors, ... for a bad file
        raise InputError(
            f"{path}: not a readable Keras model ({type(e).__name__}); train it again"
        ) from None
    shapes = [
        [tuple(t.shape) for t in getattr(model, kind, None) or []] for kind in ("inputs", "outputs")
    ]
    inputs, outputs = shapes
    if not (
        len(inputs) == 1
        and inputs[0][1:] == (32, 32, 3)
        and len(outputs) == 1
        and len(outputs[0]) == 2
    ):
        raise InputError(
            f"{path}: not a model of alexnet-kfp's contract: it takes {inputs or 'unknown'} and "
            f"gives {outputs or 'unknown'}; expected (N, 32, 32, 3) in, (N, classes) out (a model "
            "made by `alexnet-kfp train`)"
        )
    return model


def predict_keras(model_path: Path, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    model = load_keras_model(model_path)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)


def predict_onnx(model_path: Path, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Through OnnxClassifier, so that parity checks the very code path consumers use."""
    from alexnet_kfp.inference.onnx_classifier import OnnxClassifier

    return OnnxClassifier(model_path).predict(x, batch_size=batch_size)
