"""What to train on and in which precision: the visible accelerators, the CPU's features, and
the distribution strategy that fits them."""

import tensorflow as tf

from alexnet_kfp.errors import InputError
from alexnet_kfp.machine import cpu_flags, cpu_name
from alexnet_kfp.train.config import PRECISIONS


def gpus() -> list:
    return tf.config.list_physical_devices("GPU")


def describe() -> str:
    found = gpus()
    if found:
        names = [
            tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in found
        ]
        return f"{len(found)} GPU: " + ", ".join(names)
    return f"CPU: {cpu_name()}"


def require_gpu() -> None:
    """Refuse to start when a GPU was asked for and none is visible: a pod placed on a GPU node
    without its accelerator limit (or without the NVIDIA device plugin) would otherwise train on
    the node's CPU for hours."""
    if gpus():
        return
    if not tf.test.is_built_with_cuda():
        raise InputError(
            "no GPU visible in the train pod: this TensorFlow is not a CUDA build (the image's "
            "CPU flavour?); build the image with TF_FLAVOUR=gpu"
        )
    raise InputError(
        "no GPU visible in the train pod: check the task's accelerator limit and the node's "
        "NVIDIA device plugin (require_gpu=false trains on the CPU on purpose)"
    )


def choose_precision(requested: str) -> str:
    """`auto`: mixed_float16 on NVIDIA GPUs (tensor cores); mixed_bfloat16 on CPUs with AMX-BF16
    (faster than float32 there: docs/training.md); float32 elsewhere."""
    if requested not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {requested!r}")
    if requested != "auto":
        return requested
    if gpus():
        return "mixed_float16"
    return "mixed_bfloat16" if "amx_bf16" in cpu_flags() else "float32"


def strategy() -> tf.distribute.Strategy:
    """MirroredStrategy over all GPUs when there are several, else the default (one device)."""
    return tf.distribute.MirroredStrategy() if len(gpus()) > 1 else tf.distribute.get_strategy()
