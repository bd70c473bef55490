"""Loading and running a trained model, Keras or ONNX: the one home that evaluate, export and serve
import. The ONNX side needs onnxruntime, numpy and Pillow only (no TensorFlow, no kfp)."""

FLOAT_FILE, INT8_FILE = "model.onnx", "model.int8.onnx"  # the export directory's two models

# The most pixels one encoded image may decode to, in `predict` and `serve` alike; a JPEG counts at
# the scale it is decoded at (onnx_classifier.load_image decodes it at 1/2, 1/4 or 1/8 when that
# leaves its short side 256 pixels), so a 50-megapixel photo decodes to under a megapixel.
MAX_PIXELS = 4096 * 4096
