"""What the train step logs to MLflow when a tracking URI is set: its configuration, one point per
epoch of each curve (the epoch as MLflow's step), its results and decays, train.json, the history
and the TensorBoard logs."""

from pathlib import Path

import keras

from alexnet_kfp.records import TrainRecord
from alexnet_kfp.tracking import Tracker
from alexnet_kfp.train.headline import log_headline

# An epoch's history entry -> the metric's name in MLflow.
EPOCH_METRICS = {
    "loss": "loss",
    "accuracy": "accuracy",
    "val_loss": "val_loss",
    "val_accuracy": "val_accuracy",
    "lr": "learning_rate",
    "images_per_second": "images_per_second",
}


class TrackedEpochs(keras.callbacks.Callback):
    """Log each finished epoch's entry of `epoch_log` (it must come after it in the callbacks)."""

    def __init__(self, tracker: Tracker, epoch_log):
        super().__init__()
        self.tracker, self.epoch_log = tracker, epoch_log

    def on_epoch_end(self, epoch, logs=None):
        entry = self.epoch_log.history[-1]
        values = {name: entry[key] for key, name in EPOCH_METRICS.items()}
        self.tracker.metrics(values, step=entry["epoch"], what="the per-epoch metrics")


def log_training(tracker: Tracker, record: TrainRecord, model_dir: Path, sweep_trial: bool) -> None:
    """The finished training: results as metrics, decays and device as tags, its files; unless
    it is a `sweep_trial` (the select step names the winner), the best validation accuracy,
    the network, epochs and data on the pipeline's run too."""
    tracker.metrics(record.results(), what="the training's results")
    decays = "; ".join(
        f"after epoch {d.after_epoch}: {d.rule}, lr {d.lr:.3g}" for d in record.learning_rate_decays
    )
    tracker.tags(
        {
            "learning_rate_decays": decays or "none",
            "device": record.device,
            "precision": record.precision,
        }
    )
    if not sweep_trial:
        log_headline(tracker, record, {})
    for name in ("train.json", "history.json"):
        tracker.artifacts(model_dir / name)
    tracker.artifacts(model_dir / "tensorboard", "tensorboard")
