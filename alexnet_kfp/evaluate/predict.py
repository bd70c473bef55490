"""Probabilities of a saved model on uint8 images: Keras for model.keras, onnxruntime (through
OnnxClassifier) for model.onnx. Shared by evaluate (baselines) and parity; imports no scikit-learn."""

from pathlib import Path

import keras
import numpy as np


def predict_keras(model_path: Path, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    model = keras.models.load_model(model_path, compile=False)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)


def predict_onnx(model_path: Path, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Through OnnxClassifier, so that parity checks the very code path consumers use."""
    from alexnet_kfp.serve.onnx_classifier import OnnxClassifier

    return OnnxClassifier(model_path).predict(x, batch_size=batch_size)
