"""Training throughput, side by side in one run, same article network, same machine:

  1. the article's pipeline: tf.keras.preprocessing.image.ImageDataGenerator(rotation_range=2,
     horizontal_flip=True, zoom_range=.1).flow(...) fed to fit, float32;
  2. ours in float32: tf.data with the same augmentation as Keras layers on whole batches;
  3. ours as `alexnet-kfp train` runs it by default (precision auto: mixed_bfloat16 on AMX CPUs).

Prints images/s of each and the ratios to the article's pipeline (goal: ours >= 1.5x).

    python bench/train_input_pipeline.py [DATASET_DIR]   # default: makes one from ../shared/data
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf
from measure import print_machine, training_split
from train_timing import BATCH, TIMED_STEPS, WARMUP_STEPS, training_images_per_second

from alexnet_kfp.train import devices
from alexnet_kfp.train.input import ROTATION_DEGREES, ZOOM, training_dataset


def article_pipeline(x, y):
    generator = tf.keras.preprocessing.image.ImageDataGenerator(
        rotation_range=ROTATION_DEGREES, horizontal_flip=True, zoom_range=ZOOM
    )
    return generator.flow(x, y, batch_size=BATCH, seed=0)


def main() -> None:
    x, y = training_split(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    print_machine()
    auto = devices.choose_precision("auto")
    print(
        f"device: {devices.describe()}; article net, batch {BATCH}, {TIMED_STEPS} timed steps "
        f"after {WARMUP_STEPS}"
    )
    results = {
        "article: ImageDataGenerator, float32": training_images_per_second(
            article_pipeline(x, y), "float32"
        ),
        "ours: tf.data, float32": training_images_per_second(
            training_dataset(x, y, BATCH, seed=0), "float32"
        ),
        f"ours: tf.data, {auto} (default)": training_images_per_second(
            training_dataset(x, y, BATCH, seed=0), auto
        ),
    }
    baseline = next(iter(results.values()))
    for name, value in results.items():
        print(f"{name:45s} {value:7.1f} img/s  {value / baseline:5.2f}x")


if __name__ == "__main__":
    main()
