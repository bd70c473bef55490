"""The export step: Keras -> ONNX, and the Keras-vs-onnxruntime parity check. Its defaults live
here, free of TensorFlow, so the pipeline definition and the CLI read them cheaply."""

DEFAULT_OPSET = 17
DEFAULT_ATOL = 1e-4  # largest allowed |delta probability| between Keras and onnxruntime
