"""Can the train pod's CPUs feed a GPU? Side by side in one run, on one CPU core:

  1. before: the augmentation as Keras preprocessing layers (flip, rotation, zoom) in tf.data, on
     the CPU, as this project ran it until it moved into the training step;
  2. the augmentation of augment.py, still in tf.data on the CPU;
  3. now: tf.data only gathers each batch by index (the augmentation runs inside the compiled
     training step, on the accelerator);

then the `cifar` network's training FLOPs per image, the images per second a T4, an A100 and an
H100 would consume at SHARE of their dense fp16 tensor peak, and the CPU cores each pipeline needs
to keep up. Peaks are the vendors' data-sheet figures; the consumption is an estimate, not a
measurement.

    python bench/input_feed.py
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

tf.config.threading.set_intra_op_parallelism_threads(1)  # one core: figures are per core
tf.config.threading.set_inter_op_parallelism_threads(1)

from measure import print_machine

from alexnet_kfp.train.alexnet import build_alexnet, count_macs
from alexnet_kfp.train.augment import ROTATION_DEGREES, ZOOM, augment, step_seed
from alexnet_kfp.train.input import training_dataset

BATCH, IMAGES, SECONDS = 100, 35_000, 10.0
SHARE = 0.3  # of the peak a small-image convnet keeps: an assumption, stated with the results
PEAK_FP16_TFLOPS = {"T4": 65, "A100": 312, "H100 SXM": 989}  # dense tensor-core data sheets
POD_CPU_REQUEST = 4  # pipeline/placement.py


def images_per_second(dataset: tf.data.Dataset) -> float:
    """Batches drawn for SECONDS after a warm-up, as images per second."""
    iterator = iter(dataset)
    for _ in range(5):
        next(iterator)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < SECONDS:
        count += len(next(iterator)[0])
    return count / (time.perf_counter() - started)


def keras_layers(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """The earlier pipeline's augmentation: Keras layers on whole batches in tf.data (its random
    crop left out, so it is measured at its cheapest)."""
    layers = keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=0),
            keras.layers.RandomRotation(ROTATION_DEGREES / 360, fill_mode="nearest", seed=1),
            keras.layers.RandomZoom(ZOOM, fill_mode="nearest", seed=2),
        ]
    )

    def apply(images, labels):
        out = layers(tf.cast(images, tf.float32), training=True)
        return tf.cast(tf.clip_by_value(tf.round(out), 0.0, 255.0), tf.uint8), labels

    return dataset.map(apply)


def main() -> None:
    print_machine()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (IMAGES, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, IMAGES).astype(np.int64)
    gathered = training_dataset(x, y, BATCH, seed=0, first_epoch=0, epochs=100)
    on_cpu = gathered.map(
        lambda images, labels: (augment(images, step_seed(0, 0), crop_padding=4), labels)
    )
    rates = {
        "before: Keras layers on the CPU (tf.data)": images_per_second(keras_layers(gathered)),
        "augment.py on the CPU (tf.data)": images_per_second(on_cpu),
        "gather only (augmentation in the step)": images_per_second(gathered),
    }
    for name, rate in rates.items():
        print(f"{name:42s} {rate:9.0f} images/s per core")
    flops = 6 * count_macs(build_alexnet("cifar"))  # 2 per MAC forward, twice that backward
    print(f"cifar network: {flops / 1e9:.2f} GFLOP per training image (6 x MACs)")
    print(
        f"\n| GPU | images/s at {SHARE:.0%} of fp16 peak | "
        + " | ".join(f"cores: {name}" for name in rates)
        + " |"
    )
    print("|---|---|" + "---|" * len(rates))
    for gpu, tflops in PEAK_FP16_TFLOPS.items():
        consumed = SHARE * tflops * 1e12 / flops
        cores = " | ".join(f"{consumed / rate:.1f}" for rate in rates.values())
        print(f"| {gpu} | {consumed:,.0f} | {cores} |")
    print(f"\nthe train pod requests {POD_CPU_REQUEST} CPUs")


if __name__ == "__main__":
    main()
