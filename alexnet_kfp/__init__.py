"""alexnet-kfp: AlexNet on CIFAR-10 as a Kubeflow Pipelines v2 pipeline, with a verified ONNX export."""

__version__ = "0.1.0"
