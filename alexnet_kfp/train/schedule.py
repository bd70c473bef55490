"""The learning-rate schedule: Keras's plateau decay, a final decay that no budget can miss, and
optional early stopping.

The plateau rule decays the rate after `plateau_patience` epochs without a val_accuracy gain, but
it does not know the budget: a run whose validation accuracy keeps creeping up by a few tenths
never decays, and loses the 5-8 points the first decay is worth (docs/training.md). So the last
`final_decay_fraction` of the epochs always trains at a decayed rate: when the plateau rule has not
decayed it in as many epochs by the time they begin, FinalDecay does, once.
"""

import math

import keras

from alexnet_kfp.records import LearningRateDecay
from alexnet_kfp.train.callbacks import EpochLog
from alexnet_kfp.train.config import TrainConfig


def final_epochs(config: TrainConfig) -> int:
    """How many epochs at the end of the budget must train at a decayed rate (0: no final decay)."""
    return math.ceil(config.final_decay_fraction * config.epochs - 1e-9)


def _rate(model: keras.Model) -> float:
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


class FinalDecay(keras.callbacks.Callback):
    """At the end of epoch `epochs - final`, decay the rate as the plateau rule would unless it
    decayed in the last `final` epochs; `fired_after` says when it did (0: never)."""

    def __init__(
        self,
        config: TrainConfig,
        plateau: keras.callbacks.ReduceLROnPlateau,
        epoch_log: EpochLog,
    ):
        super().__init__()
        self.final = final_epochs(config)
        self.at = config.epochs - self.final  # 1-based epoch after which it may fire
        self.initial = config.learning_rate
        self.plateau, self.epoch_log = plateau, epoch_log
        self.fired_after = 0

    def on_epoch_end(self, epoch, logs=None):
        if not self.final or epoch + 1 != self.at:
            return
        # the rate each epoch so far started with (this one's is not in the history yet)
        starts = [e["lr"] for e in self.epoch_log.history] + [self.epoch_log.learning_rate]
        window_start = self.at - self.final  # the first of the last `final` epochs, 0-based
        before = starts[window_start] if window_start >= 0 else self.initial
        now = _rate(self.model)
        if now < before or now <= self.plateau.min_lr:
            return  # decayed recently, or cannot decay
        self.model.optimizer.learning_rate = max(now * self.plateau.factor, self.plateau.min_lr)
        self.plateau.wait, self.plateau.cooldown_counter = 0, self.plateau.cooldown
        self.fired_after = self.at


def schedule_callbacks(config: TrainConfig, epoch_log: EpochLog) -> list[keras.callbacks.Callback]:
    """The callbacks that change or stop training by epoch: the plateau decay, the final decay
    (after it: it sees the plateau's decision), early stopping."""
    plateau = keras.callbacks.ReduceLROnPlateau(
        monitor="val_accuracy",
        mode="max",
        factor=config.plateau_factor,
        patience=config.plateau_patience,
        min_delta=config.plateau_min_delta,
        cooldown=config.plateau_cooldown,
        min_lr=config.min_learning_rate,
        verbose=0,
    )
    callbacks: list[keras.callbacks.Callback] = [plateau, FinalDecay(config, plateau, epoch_log)]
    if config.early_stopping_patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_accuracy",
                mode="max",
                patience=config.early_stopping_patience,
                restore_best_weights=False,
            )
        )
    return callbacks


def final_decay_of(schedule: list[keras.callbacks.Callback]) -> FinalDecay:
    """The FinalDecay among schedule_callbacks' callbacks."""
    return next(c for c in schedule if isinstance(c, FinalDecay))


def decays(
    history: list[dict], schedule: list[keras.callbacks.Callback]
) -> list[LearningRateDecay]:
    """Each decay the run's epochs trained after: the epoch after which it fired, the rule, the new
    rate (read from the rate each epoch started with)."""
    final_decay = final_decay_of(schedule)
    return [
        LearningRateDecay(
            after_epoch=previous["epoch"],
            rule="final" if previous["epoch"] == final_decay.fired_after else "plateau",
            lr=entry["lr"],
        )
        for previous, entry in zip(history, history[1:], strict=False)
        if entry["lr"] < previous["lr"]
    ]
