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
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from alexnet_kfp.data.npz import load_split  # noqa: E402
from alexnet_kfp.data.prepare import prepare_dataset  # noqa: E402
from alexnet_kfp.train import devices  # noqa: E402
from alexnet_kfp.train.alexnet import build_alexnet  # noqa: E402
from alexnet_kfp.train.input import ROTATION_DEGREES, ZOOM, training_dataset  # noqa: E402
from measure import print_machine  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar-10-python.tar.gz"
SHARED_SHA256 = "f6cb127c49ee2545f5e8eb68f4cffe2eee9fc67e59676ca447f0692db63a56e2"
BATCH = 100
WARMUP_STEPS, TIMED_STEPS = 15, 60


class _StepTimer(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == WARMUP_STEPS - 1:
            self.started = time.perf_counter()
        if batch == WARMUP_STEPS + TIMED_STEPS - 1:
            self.images_per_second = TIMED_STEPS * BATCH / (time.perf_counter() - self.started)
            self.model.stop_training = True


def measure(data, precision: str) -> float:
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(0)
    model = build_alexnet("article")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = _StepTimer()
    model.fit(data, epochs=1, steps_per_epoch=WARMUP_STEPS + TIMED_STEPS, verbose=0, callbacks=[timer], shuffle=False)
    keras.mixed_precision.set_global_policy("float32")
    return timer.images_per_second


def article_pipeline(x, y):
    generator = tf.keras.preprocessing.image.ImageDataGenerator(
        rotation_range=ROTATION_DEGREES, horizontal_flip=True, zoom_range=ZOOM)
    return generator.flow(x, y, batch_size=BATCH, seed=0)


def main() -> None:
    if len(sys.argv) > 1:
        dataset_dir = Path(sys.argv[1])
    else:
        dataset_dir = Path(tempfile.mkdtemp()) / "dataset"
        prepare_dataset(dataset_dir, source=str(SHARED), sha256=SHARED_SHA256)
    x, y = load_split(dataset_dir, "train")
    print_machine()
    auto = devices.choose_precision("auto")
    print(f"device: {devices.describe()}; article net, batch {BATCH}, {TIMED_STEPS} timed steps after {WARMUP_STEPS}")
    results = {
        "article: ImageDataGenerator, float32": measure(article_pipeline(x, y), "float32"),
        "ours: tf.data, float32": measure(training_dataset(x, y, BATCH, seed=0), "float32"),
        f"ours: tf.data, {auto} (default)": measure(training_dataset(x, y, BATCH, seed=0), auto),
    }
    baseline = next(iter(results.values()))
    for name, value in results.items():
        print(f"{name:45s} {value:7.1f} img/s  {value / baseline:5.2f}x")


if __name__ == "__main__":
    main()
