"""Training behaviour that lives in callbacks: stop when the loss diverges, keep the best weights,
and log each epoch."""

import logging
import math
import time

import keras
import numpy as np

from alexnet_kfp.progress import SHOWN

log = logging.getLogger(__name__)


class Divergence(keras.callbacks.Callback):
    """Stop at the first batch whose loss is not a finite number (NaN or infinity: a rate too high,
    an overflow), and remember where: training past it only multiplies NaN, and a model trained so
    has learned nothing. Placed first, so that the callbacks after it can see `diverged`."""

    def __init__(self) -> None:
        super().__init__()
        self.diverged: str = ""  # where, e.g. "epoch 2, batch 14"
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if not self.diverged and loss is not None and not math.isfinite(float(loss)):
            self.diverged = f"epoch {self.epoch}, batch {batch + 1}"
            self.model.stop_training = True


class BestWeights(keras.callbacks.Callback):
    """Remember the weights of the epoch with the best `monitor` (max); `restore()` puts them
    back."""

    def __init__(self, monitor: str = "val_accuracy"):
        super().__init__()
        self.monitor = monitor
        self.best = -math.inf
        self.best_epoch = 0
        self.weights: list | None = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and value > self.best:
            self.best, self.best_epoch = float(value), epoch + 1
            self.weights = self.model.get_weights()

    def restore(self, model: keras.Model) -> None:
        if self.weights is not None:
            model.set_weights(self.weights)


class EpochLog(keras.callbacks.Callback):
    """Record loss, accuracy, their validation twins, the learning rate and the time of every epoch,
    and log one line per epoch (readable in `kubectl logs`, unlike a progress bar)."""

    def __init__(self, epochs: int, train_images: int):
        super().__init__()
        self.epochs = epochs
        self.train_images = train_images
        self.history: list[dict] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()
        self.learning_rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        seconds = time.perf_counter() - self.started
        entry = {
            "epoch": epoch + 1,
            **{k: float(logs[k]) for k in ("loss", "accuracy", "val_loss", "val_accuracy")},
            "lr": self.learning_rate,
            "seconds": round(seconds, 2),
            "images_per_second": round(self.train_images / seconds, 1),
        }
        self.history.append(entry)
        log.info(
            "epoch %d/%d: loss %.4f accuracy %.4f | val_loss %.4f val_accuracy %.4f | lr %.1e | "
            "%.1f s (%.0f img/s)%s",
            entry["epoch"],
            self.epochs,
            entry["loss"],
            entry["accuracy"],
            entry["val_loss"],
            entry["val_accuracy"],
            entry["lr"],
            seconds,
            entry["images_per_second"],
            self._time_left(),
            extra=SHOWN,
        )

    def _time_left(self) -> str:
        """' | about N min left' at this run's median epoch time; '' after the last epoch."""
        left = self.epochs - len(self.history)
        if left <= 0:
            return ""
        median = float(np.median([e["seconds"] for e in self.history]))
        return f" | about {max(1, round(left * median / 60))} min left"
