"""Loading and running a trained model, Keras or ONNX: the one home that evaluate, export and serve
import. The ONNX side needs onnxruntime, numpy and Pillow only (no TensorFlow, no kfp)."""

FLOAT_FILE, INT8_FILE = "model.onnx", "model.int8.onnx"  # the export directory's two models

# The model metadata key that marks a trial model (trained on a sample of the data), and what
# `predict`, `serve` and the report say of one.
TRIAL_KEY = "trial"


def trial_note(limit_per_class: int) -> str:
    """What a trial model says wherever it answers."""
    return (
        f"a trial model, trained on a sample of {limit_per_class} images per class: not a model "
        "to ship"
    )
