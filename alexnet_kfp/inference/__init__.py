"""Loading and running a trained model, Keras or ONNX: the one home that evaluate, export and serve
import. The ONNX side needs onnxruntime, numpy and Pillow only (no TensorFlow, no kfp)."""

FLOAT_FILE, INT8_FILE = "model.onnx", "model.int8.onnx"  # the export directory's two models

# The most pixels one encoded image may decode to, in `predict` and `serve` alike; a JPEG counts at
# the scale it is decoded at (onnx_classifier.load_image decodes it at 1/2, 1/4 or 1/8 when that
# leaves its short side 256 pixels), so a 50-megapixel photo decodes to under a megapixel.
MAX_PIXELS = 4096 * 4096

# The model metadata key that marks a trial model (trained on a sample of the data), and what
# `predict`, `serve` and the report say of one.
TRIAL_KEY = "trial"


def trial_note(limit_per_class: int) -> str:
    """What a trial model says wherever it answers."""
    return (
        f"a trial model, trained on a sample of {limit_per_class} images per class: not a model "
        "to ship"
    )
