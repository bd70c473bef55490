"""AlexNet for CIFAR-10 in two variants, both taking raw uint8 NHWC pixels (scaling and per-channel
normalisation are inside, so the exported ONNX model takes raw images too).

- "article": the article's network, topology unchanged, with its bugs fixed (no BatchNorm before the
  softmax, no meaningless `input_shape` on a hidden layer, a float32 softmax for mixed precision).
- "cifar": the same five-conv/three-FC shape kept at CIFAR resolution (3x3/1 first conv,
  overlapping 3x3/2 pools, FC 1024-1024): more compute per image, fewer parameters, more accurate.
Parameters and multiply-accumulates of each: docs/training.md (`count_macs` measures them).
"""

import keras
import numpy as np
from keras import layers

from alexnet_kfp.train.config import VARIANTS

# Per-channel mean and standard deviation of the CIFAR-10 training images, in [0, 1].
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


def _conv_block(x, filters: int, kernel: int, strides: int, name: str, synchronized: bool):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn", synchronized=synchronized)(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def _dense_block(x, units: int, dropout: float, name: str, synchronized: bool):
    x = layers.Dense(units, name=f"{name}_dense")(x)
    x = layers.BatchNormalization(name=f"{name}_bn", synchronized=synchronized)(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    return layers.Dropout(dropout, name=f"{name}_dropout")(x)


def _scaled_input():
    image = keras.Input(shape=(32, 32, 3), dtype="uint8", name="image")
    x = layers.Rescaling(1.0 / 255.0, name="scale")(image)
    variance = [s * s for s in CIFAR10_STD]
    x = layers.Normalization(mean=list(CIFAR10_MEAN), variance=variance, name="normalize")(x)
    return image, x


# (filters, kernel, stride) of the five convolutions, the pool after conv 1, 2 and 5 as
# (size, stride), the hidden FC widths and their dropout, per variant.
_ARCHITECTURES = {
    "article": {
        "convs": [(96, 11, 4), (256, 5, 1), (384, 3, 1), (384, 3, 1), (256, 3, 1)],
        "pool": (2, 2),
        "fc": (4096, 4096, 1000),
        "dropout": 0.4,
    },
    "cifar": {
        "convs": [(96, 3, 1), (256, 5, 1), (384, 3, 1), (384, 3, 1), (256, 3, 1)],
        "pool": (3, 2),
        "fc": (1024, 1024),
        "dropout": 0.5,
    },
}
_POOL_AFTER = (1, 2, 5)


def _features(x, convs, pool, fc, dropout, synchronized):
    for i, (filters, kernel, strides) in enumerate(convs, start=1):
        x = _conv_block(x, filters, kernel, strides, f"conv{i}", synchronized)
        if i in _POOL_AFTER:
            x = layers.MaxPooling2D(pool[0], pool[1], padding="same", name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    for i, units in enumerate(fc, start=1):
        x = _dense_block(x, units, dropout, f"fc{i}", synchronized)
    return x


def build_alexnet(
    variant: str = "article", num_classes: int = 10, synchronized_batch_norm: bool = False
) -> keras.Model:
    """The network for `variant` ("article" or "cifar"): uint8 (N, 32, 32, 3) in, float32
    probabilities out. `synchronized_batch_norm` for training over several replicas: BatchNorm
    takes the global batch's statistics, so every replica keeps the same moving statistics
    (unsynchronized, each keeps its own and the saved model holds only the first replica's)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    image, x = _scaled_input()
    x = _features(x, **_ARCHITECTURES[variant], synchronized=synchronized_batch_norm)
    logits = layers.Dense(num_classes, name="classifier")(x)
    probabilities = layers.Activation("softmax", dtype="float32", name="probabilities")(logits)
    return keras.Model(image, probabilities, name=f"alexnet_{variant}")


def count_macs(model: keras.Model) -> int:
    """Multiply-accumulates per image in the Conv2D and Dense layers (what dominates the cost)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            kh, kw, cin, cout = layer.kernel.shape
            _, h, w, _ = layer.output.shape
            total += kh * kw * cin * cout * h * w
        elif isinstance(layer, layers.Dense):
            total += int(np.prod(layer.kernel.shape))
    return int(total)
