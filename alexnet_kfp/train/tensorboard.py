"""TensorBoard logs of a training run, written from its history: per epoch, the loss and accuracy of
the training and validation data (as Keras's TensorBoard callback names them, so the two curves
overlay) and the learning rate. Written from the history rather than by a live callback, so a
resumed run's logs hold every epoch, the ones trained before the restart included."""

from pathlib import Path

import tensorflow as tf

# history key -> (run, tag), as keras.callbacks.TensorBoard lays them out
_SCALARS = {
    "loss": ("train", "epoch_loss"),
    "accuracy": ("train", "epoch_accuracy"),
    "lr": ("train", "epoch_learning_rate"),
    "val_loss": ("validation", "epoch_loss"),
    "val_accuracy": ("validation", "epoch_accuracy"),
}


def write_tensorboard_logs(history: list[dict], directory: Path) -> None:
    """Event files under directory/train and directory/validation, one step per epoch."""
    for run in sorted({run for run, _ in _SCALARS.values()}):
        writer = tf.summary.create_file_writer(str(directory / run))
        with writer.as_default():
            for entry in history:
                for key, (key_run, tag) in _SCALARS.items():
                    if key_run == run and key in entry:
                        tf.summary.scalar(tag, entry[key], step=entry["epoch"])
        writer.close()
