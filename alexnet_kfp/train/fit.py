"""The training step: Dataset directory -> Model directory.

    train(dataset_dir, model_dir, TrainConfig(...))

Adam, sparse cross-entropy, `ReduceLROnPlateau(monitor="val_accuracy")` (the article monitored
`val_acc`, which Keras 2.3+ never reports, so its decay never fired), the best-val_accuracy weights
restored at the end, optional early stopping; each batch augmented inside the training step
(training_model.py). Writes `model.keras` (a float32 inference model, whatever precision trained
it), `history.json` (one entry per epoch), `tensorboard/` and `train.json`.
"""

import json
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from alexnet_kfp.artifacts import class_names_of
from alexnet_kfp.data.npz import load_split
from alexnet_kfp.errors import InputError
from alexnet_kfp.files import atomic_output_dir, check_output_dir, file_digest
from alexnet_kfp.progress import SHOWN
from alexnet_kfp.records import (
    CheckpointUse,
    DatasetRecord,
    TrainedOn,
    TrainRecord,
    provenance,
)
from alexnet_kfp.tracking import Tracker, tracked
from alexnet_kfp.train import devices
from alexnet_kfp.train.alexnet import build_alexnet
from alexnet_kfp.train.callbacks import BestWeights, Divergence, EpochLog
from alexnet_kfp.train.checkpoint import Checkpoint, held, identity
from alexnet_kfp.train.config import TrainConfig
from alexnet_kfp.train.input import evaluation_dataset, steps_per_epoch, training_dataset
from alexnet_kfp.train.schedule import decays, schedule_callbacks
from alexnet_kfp.train.tensorboard import write_tensorboard_logs
from alexnet_kfp.train.tracking import TrackedEpochs, log_training
from alexnet_kfp.train.training_model import AugmentingModel

log = logging.getLogger(__name__)
STEP = "train"  # the step's name, and its MLflow run's unless a sweep's trial names its own


class TrainingDiverged(InputError):
    """The loss became NaN or infinite: the settings cannot train (no model is written)."""


def train(
    dataset_dir: str | Path,
    model_dir: str | Path,
    config: TrainConfig | None = None,
    checkpoint_dir: str | Path | None = None,
    distribution: tf.distribute.Strategy | None = None,
    run_name: str = STEP,
    until_epoch: int | None = None,
) -> TrainRecord:
    """Train AlexNet on the Dataset at `dataset_dir`; write the Model directory; return its
    train.json record.
    With `checkpoint_dir`, save the training state after every epoch and continue from it
    (checkpoint.py). `distribution`: the devices' strategy (default: what devices.strategy picks
    for the visible GPUs). With a tracking URI, logged to MLflow as the run `run_name`.
    `until_epoch`: stop after that epoch of the `config.epochs` budget, whose schedule it keeps
    (a halving sweep's rung: the checkpoint then goes on as if never stopped)."""
    config = config or TrainConfig()
    config.check()
    if until_epoch is not None and not 1 <= until_epoch <= config.epochs:
        raise InputError(f"until_epoch must be 1 to epochs={config.epochs}, got {until_epoch}")
    check_output_dir(model_dir)  # before the hours of training
    checkpoint = Path(checkpoint_dir) if checkpoint_dir is not None else None
    with tracked(STEP, run_name) as tracker:
        tracker.params(asdict(config))
        with held(checkpoint) if checkpoint is not None else nullcontext():
            record = _train(
                Path(dataset_dir),
                Path(model_dir),
                config,
                checkpoint,
                distribution,
                tracker,
                until_epoch or config.epochs,
            )
        log_training(tracker, record, Path(model_dir), sweep_trial=run_name != STEP)
    return record


def _train(
    dataset_dir: Path,
    model_dir: Path,
    config: TrainConfig,
    checkpoint_dir: Path | None,
    distribution: tf.distribute.Strategy | None,
    tracker: Tracker,
    until_epoch: int,
) -> TrainRecord:
    if config.require_gpu:
        devices.require_gpu()
    dataset = DatasetRecord.read_if_present(dataset_dir)
    class_names = class_names_of(dataset)
    x_train, y_train = load_split(dataset_dir, "train", len(class_names))
    x_val, y_val = load_split(dataset_dir, "val", len(class_names))
    # one object: a second MirroredStrategy would not own the model
    distribution = distribution or devices.strategy()
    model, precision = _compiled_model(config, len(class_names), distribution)
    divergence = Divergence()
    best = BestWeights("val_accuracy")
    epoch_log = EpochLog(config.epochs, len(x_train))
    schedule = schedule_callbacks(config, epoch_log)
    callbacks = [divergence, *schedule, best, epoch_log, TrackedEpochs(tracker, epoch_log)]
    train_sha256 = _train_split_sha256(dataset_dir, dataset)
    resumed_from = 0
    # the checkpoint comes last: it restores the counters the others reset in on_train_begin
    if checkpoint_dir is not None:
        checkpoint = Checkpoint(
            checkpoint_dir, identity(config, train_sha256), best, epoch_log, schedule
        )
        with distribution.scope():  # the optimizer's slots are built beside the model's variables
            resumed_from = checkpoint.resume(model, config.epochs)
        callbacks.append(checkpoint)
        if resumed_from:
            log.info("resuming from %s after epoch %d", checkpoint_dir, resumed_from, extra=SHOWN)
    started = time.perf_counter()
    with atomic_output_dir(model_dir) as staging:
        fitted = (x_train, y_train), (x_val, y_val)
        _fit(model, config, *fitted, (resumed_from, until_epoch), callbacks)
        if divergence.diverged:
            raise TrainingDiverged(
                f"training diverged: the loss was not a number at {divergence.diverged} "
                f"(learning_rate {config.learning_rate:g}); a lower learning rate trains"
            )
        best.restore(model)
        record = TrainRecord(
            parameters=asdict(config),
            precision=precision,
            xla=bool(model.jit_compile),  # what Keras compiled, not only what was asked
            saved_model_precision="float32",
            device=devices.describe(),
            replicas=distribution.num_replicas_in_sync,  # BatchNorm synchronized when > 1
            **_outcome(epoch_log.history, best),
            learning_rate_decays=decays(epoch_log.history, schedule),
            wall_seconds=round(time.perf_counter() - started, 1),  # this process's share
            checkpoint=CheckpointUse(str(checkpoint_dir), resumed_from) if checkpoint_dir else None,
            class_names=class_names,
            dataset=_trained_on(dataset_dir, train_sha256, dataset),
            versions=provenance(tf, keras),
        )

        def write(directory: Path) -> None:
            _save_float32(model, config, len(class_names), directory / "model.keras")
            history = json.dumps(epoch_log.history, indent=2) + "\n"
            (directory / "history.json").write_text(history)
            write_tensorboard_logs(epoch_log.history, directory / "tensorboard")
            record.write(directory)

        try:
            write(staging)
        except OSError as e:  # a full or read-only disk: hours of training are not thrown away
            done = len(epoch_log.history)
            raise _kept_elsewhere(e, model_dir, checkpoint_dir, done, write) from None
    log.info(
        "best val_accuracy %.4f at epoch %d; model written to %s",
        best.best,
        best.best_epoch,
        model_dir,
    )
    return record


def _fit(
    model: keras.Model,
    config: TrainConfig,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    epochs: tuple[int, int],
    callbacks: list[keras.callbacks.Callback],
) -> None:
    """The epochs after `epochs[0]` up to `epochs[1]`, on the seeded order of the training
    images."""
    (x_train, y_train), (x_val, y_val) = train, val
    resumed_from, until_epoch = epochs
    log.info(
        "training %s (%d parameters) on %s in %s: %d train / %d val images, %d epochs",
        *(
            model.name,
            model.count_params(),
            devices.describe(),
            keras.mixed_precision.global_policy().name,
        ),
        *(len(x_train), len(x_val), config.epochs),
        extra=SHOWN,
    )
    model.fit(
        training_dataset(
            x_train, y_train, config.batch_size, config.seed, resumed_from, config.epochs
        ),
        steps_per_epoch=steps_per_epoch(len(x_train), config.batch_size),
        validation_data=evaluation_dataset(x_val, y_val, config.batch_size),
        epochs=until_epoch,
        initial_epoch=resumed_from,
        callbacks=callbacks,
        shuffle=False,  # the dataset orders each epoch (seeded)
        verbose=1 if sys.stdout.isatty() else 0,
    )


def _compiled_model(
    config: TrainConfig, class_count: int, distribution: tf.distribute.Strategy
) -> tuple[keras.Model, str]:
    """The seeded, compiled network (with its augmentation) in `distribution`'s scope, and the
    precision it trains in."""
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    precision = devices.choose_precision(config.precision)
    keras.mixed_precision.set_global_policy(precision)
    with distribution.scope():
        model = build_alexnet(
            config.variant,
            num_classes=class_count,
            synchronized_batch_norm=distribution.num_replicas_in_sync > 1,
        )
        if config.augment:
            model = AugmentingModel(model, config.seed, config.crop_padding)
        model.compile(
            optimizer=keras.optimizers.Adam(config.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=config.jit_compile,
        )
    return model, precision


def _train_split_sha256(dataset_dir: Path, dataset: DatasetRecord | None) -> str:
    """train.npz's sha256 (what a checkpoint is tied to: the training images themselves, with or
    without dataset.json), refused when dataset.json records another."""
    train_sha256 = file_digest(dataset_dir / "train.npz")
    recorded = dataset.splits["train"].sha256 if dataset and "train" in dataset.splits else None
    if recorded not in (None, train_sha256):
        raise InputError(
            f"{dataset_dir / 'train.npz'} is not the file its dataset.json records (sha256 "
            f"{train_sha256[:12]}..., recorded {recorded[:12]}...): the Dataset was changed after "
            "the data step; make it again"
        )
    return train_sha256


def _trained_on(dataset_dir: Path, train_sha256: str, dataset: DatasetRecord | None) -> TrainedOn:
    return TrainedOn(
        str(dataset_dir),
        train_sha256,
        dataset.source_sha256 if dataset else None,
        dataset.parameters.limit_per_class if dataset else None,
    )


def _kept_elsewhere(
    error: OSError,
    model_dir: Path,
    checkpoint_dir: Path | None,
    epochs_done: int,
    write: Callable[[Path], None],
) -> InputError:
    """The one line for a model directory that could not be written, after the trained model was
    kept: in the checkpoint (named, with the command that writes it without training), else in a
    new directory under the system's temporary directory."""
    reason = error.strerror or str(error)
    if checkpoint_dir is not None:
        return InputError(
            f"{model_dir}: cannot write the model ({reason}); the trained state is kept in "
            f"{checkpoint_dir}: run the same command with a new --out and --epochs {epochs_done} "
            "to write it without training"
        )
    rescue = Path(tempfile.mkdtemp(prefix="alexnet-kfp-model-"))
    try:
        write(rescue)
    except OSError as second:
        shutil.rmtree(rescue, ignore_errors=True)
        return InputError(
            f"{model_dir}: cannot write the model ({reason}), nor under {rescue.parent} "
            f"({second.strerror or second}); the trained model is lost: free space and train "
            "again (--checkpoint-dir keeps the training state on the way)"
        )
    return InputError(f"{model_dir}: cannot write the model ({reason}); it was written to {rescue}")


def _save_float32(model: keras.Model, config: TrainConfig, num_classes: int, path: Path) -> None:
    """Save an uncompiled float32 copy: no optimizer state, loads and exports the same
    everywhere."""
    keras.mixed_precision.set_global_policy("float32")
    inference = build_alexnet(config.variant, num_classes=num_classes)
    inference.set_weights(model.get_weights())
    inference.save(path)


def _outcome(history: list[dict], best: BestWeights) -> dict:
    """What the run achieved: epochs, the best epoch, and the steady training speed."""
    steady = history[1:] or history  # the first epoch includes graph tracing
    return {
        "epochs_run": len(history),
        "best_epoch": best.best_epoch,
        "best_val_accuracy": best.best,
        "images_per_second": round(float(np.mean([e["images_per_second"] for e in steady])), 1),
    }
