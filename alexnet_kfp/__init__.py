"""alexnet-kfp: AlexNet on CIFAR-10 as a Kubeflow Pipelines v2 pipeline, with a verified ONNX
export."""

import os

# Set once, here, before any step module imports TensorFlow: keeps its C++ info lines out of the
# one-line errors and the pods' logs. A value set by the user wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
