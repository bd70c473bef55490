"""Probabilities of a saved model on uint8 images: Keras for model.keras, onnxruntime (through
OnnxClassifier) for model.onnx. Shared by evaluate (baselines) and parity; imports no
scikit-learn."""

from pathlib import Path

import keras
import numpy as np

from alexnet_kfp.errors import InputError


def load_keras_model(path: Path) -> keras.Model:
    """model.keras, or one line naming the file (Keras says "File not found" for a garbage file),
    saying how its inputs and outputs differ from the network's, or that its weights are not
    numbers."""
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
    if not all(np.isfinite(weights).all() for weights in model.get_weights()):
        raise InputError(
            f"{path}: the model's weights hold NaN or infinity (as after a training that "
            "diverged): it has learned nothing; train it again"
        )
    return model


def predict_keras(model_path: Path, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    model = load_keras_model(model_path)
    probabilities = model.predict(x, batch_size=batch_size, verbose=0)
    return finite(model_path, np.asarray(probabilities, dtype=np.float32))


def predict_onnx(model_path: Path, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Through OnnxClassifier, so that parity checks the very code path consumers use."""
    from alexnet_kfp.inference.onnx_classifier import OnnxClassifier

    return finite(model_path, OnnxClassifier(model_path).predict(x, batch_size=batch_size))


def finite(model_path: Path, probabilities: np.ndarray) -> np.ndarray:
    """`probabilities`, or one line when any is NaN or infinite: a model whose weights hold such
    values (a training that diverged) has learned nothing, and an argmax over NaN would still name
    a class; no step judges, gates or ships it."""
    bad = ~np.isfinite(probabilities).all(axis=1)
    if bad.any():
        raise InputError(
            f"{model_path}: the model's outputs are not numbers for {int(bad.sum())} of "
            f"{len(bad)} images (its weights hold NaN or infinity, as after a training that "
            "diverged); train it again"
        )
    return probabilities
