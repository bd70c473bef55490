"""Consumers of the exported model: onnxruntime, numpy and Pillow only (no TensorFlow, no kfp)."""
