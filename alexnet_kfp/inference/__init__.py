"""Loading and running a trained model, Keras or ONNX: the one home that evaluate, export and serve
import. The ONNX side needs onnxruntime, numpy and Pillow only (no TensorFlow, no kfp)."""

FLOAT_FILE, INT8_FILE = "model.onnx", "model.int8.onnx"  # the export directory's two models
