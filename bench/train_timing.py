"""Training speed as the bench scripts beside it measure it: images/s over timed steps of `fit`
after warm-up steps (graph tracing and the first allocations excluded)."""

import time

import keras

from alexnet_kfp.train.alexnet import build_alexnet

BATCH = 100
WARMUP_STEPS, TIMED_STEPS = 15, 60


class StepTimer(keras.callbacks.Callback):
    def __init__(self, warmup: int, timed: int):
        super().__init__()
        self.warmup, self.timed = warmup, timed

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.warmup - 1:
            self.started = time.perf_counter()
        if batch == self.warmup + self.timed - 1:
            self.images_per_second = self.timed * BATCH / (time.perf_counter() - self.started)
            self.model.stop_training = True


def training_images_per_second(
    data,
    precision: str,
    variant: str = "article",
    warmup: int = WARMUP_STEPS,
    timed: int = TIMED_STEPS,
) -> float:
    """`data` yields batches of BATCH; the network is built fresh, compiled as `alexnet-kfp train`
    does."""
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(0)
    model = build_alexnet(variant)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    timer = StepTimer(warmup, timed)
    model.fit(
        data, epochs=1, steps_per_epoch=warmup + timed, verbose=0, callbacks=[timer], shuffle=False
    )
    keras.mixed_precision.set_global_policy("float32")
    return timer.images_per_second
