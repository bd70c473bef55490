"""Resumable training: after every epoch the whole training state goes to a checkpoint directory, so
a run stopped half-way (a preempted node, a closed laptop) continues from its last finished epoch
when started again with the same directory, and a finished run can be extended with a larger
--epochs (or, with --epochs equal to the epochs done, written out as a model without training more).

    state.json                    the commit point: epochs done, history, the callbacks' counters,
                                  the dropout layers' random states, the parameters and training
                                  split that made them
    state-<epoch>.weights.h5      model and optimizer (Adam's moments, step and learning rate)
    best-<epoch>.npz              the best epoch's weights so far (BestWeights)
    lock                          held (flock) by the run writing the directory

A resumed run is the uninterrupted one: the batches' order and augmentation follow from (seed,
epoch, step) alone (input.py, augment.py), and every other random state is in the checkpoint.
"""

import contextlib
import fcntl
import json
import logging
import math
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

import keras
import numpy as np

from alexnet_kfp.errors import InputError
from alexnet_kfp.files import make_directory
from alexnet_kfp.records import RECORD_BYTES, history_problem
from alexnet_kfp.train.callbacks import BestWeights, EpochLog
from alexnet_kfp.train.config import TrainConfig
from alexnet_kfp.untrusted import json_value, read_file

log = logging.getLogger(__name__)
STATE = "state.json"
# Room left beside a state, for the file system's own needs and what the estimate misses.
_SPARE_BYTES = 16 << 20
# What a callback counts between epochs (ReduceLROnPlateau, EarlyStopping, FinalDecay); their
# on_train_begin resets it, so it is put back after theirs.
_COUNTERS = ("wait", "best", "best_epoch", "cooldown_counter", "fired_after")
# Parameters a resumed run may change: the epoch budget (to extend a run) and how fast it may run.
_FREE = ("epochs", "deterministic", "jit_compile", "require_gpu")


@contextlib.contextmanager
def held(directory: Path) -> Iterator[None]:
    """Hold the directory's lock for the whole run: a second run on it is refused at once, and a
    path that cannot be a checkpoint directory is refused before any training. The kernel drops
    the lock when the holder dies, so a killed run's directory can be resumed at once."""
    with _lock_file(directory, f"--checkpoint-dir {directory}") as lock:  # held until the run ends
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"checkpoint {directory} is being written by another training run; wait for it to "
                "end or use another --checkpoint-dir"
            ) from None
        yield


UNRESOLVED_WORKSPACE = "{{$.workspace_path}}"


def unwritable(directory: Path) -> str | None:
    """Why `directory` cannot hold a checkpoint (None: it can), found as a run would find it."""
    if UNRESOLVED_WORKSPACE in str(directory):
        # KFP backends 2.14.x make the workspace volume but neither mount it nor resolve its path
        return (
            f"{directory}: the KFP backend did not resolve {UNRESOLVED_WORKSPACE} (it mounts the "
            "run's workspace from 2.15.0 on)"
        )
    try:
        _lock_file(directory, str(directory)).close()
    except InputError as e:
        return str(e)
    return None


def _lock_file(directory: Path, named: str) -> TextIO:
    """The directory's lock file opened for appending, the directory made if missing; or one line
    that names the directory as `named` when either is refused."""
    make_directory(directory, named)
    try:
        return open(directory / "lock", "a")
    except OSError as e:
        raise InputError(f"{named}: cannot write there ({e.strerror or e})") from None


def identity(config: TrainConfig, train_sha256: str | None) -> dict:
    """What must match for a checkpoint to be continued."""
    parameters = {k: v for k, v in asdict(config).items() if k not in _FREE}
    return {"parameters": parameters, "train_sha256": train_sha256}


class Checkpoint(keras.callbacks.Callback):
    """Write the training state after every epoch; `resume()` reads it back before fit."""

    def __init__(
        self, directory: Path, made_by: dict, best: BestWeights, epoch_log: EpochLog, counted: list
    ):
        super().__init__()
        self.directory, self.made_by = Path(directory), made_by
        self.best, self.epoch_log, self.counted = best, epoch_log, counted
        self.counters: list[dict] = []  # read by resume(), put back in on_train_begin
        self.out_of_space = False  # set when a state did not fit: no more are written

    def resume(self, model: keras.Model, epochs: int) -> int:
        """Load the last finished epoch's state into `model` and the callbacks; return its number.
        A budget of `epochs` below it is refused: the model would not be the one its record
        describes."""
        path = self.directory / STATE
        if not path.is_file():
            return 0
        state = _read_state(path)
        done = state["epochs_done"]
        if state["made_by"] != self.made_by:
            changed = _differences(state["made_by"], self.made_by)
            raise InputError(
                f"checkpoint {self.directory} was made by other parameters or data ({changed}); "
                "use a new --checkpoint-dir"
            )
        if epochs < done:
            raise InputError(
                f"checkpoint {self.directory} has {done} epochs done, more than --epochs "
                f"{epochs}; pass --epochs {done} to write its model without training, or more to "
                "go on"
            )
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        try:
            model.load_weights(self.directory / state["weights"])
            with np.load(self.directory / state["best_weights"], allow_pickle=False) as best:
                weights = [best[f"arr_{i}"] for i in range(len(best.files))]
        except (OSError, ValueError, KeyError) as e:
            raise InputError(
                f"checkpoint {self.directory}: epoch {done}'s weights are missing or damaged "
                f"({type(e).__name__}); use a new --checkpoint-dir"
            ) from None
        if weights and [w.shape for w in weights] != [w.shape for w in model.get_weights()]:
            raise InputError(
                f"checkpoint {self.directory}: {state['best_weights']} does not fit this network"
            )
        self.best.weights = weights or None  # none: no epoch had a val_accuracy yet
        states = random_states(model)
        if len(state["random_states"]) != len(states):
            raise InputError(
                f"checkpoint {self.directory}: its random states do not fit this network"
            )
        for variable, value in zip(states, state["random_states"], strict=True):
            variable.assign(value)
        self.best.best, self.best.best_epoch = state["best"]["value"], state["best"]["epoch"]
        self.epoch_log.history = state["history"]
        self.counters = state["counters"]
        return done

    def on_train_begin(self, logs=None):
        # counters: none on a fresh start, one dict per counted callback on a resume
        for callback, counters in zip(self.counted, self.counters, strict=False):
            for name, value in counters.items():
                setattr(callback, name, value)

    def on_epoch_end(self, epoch, logs=None):
        if not math.isfinite(float((logs or {}).get("loss", 0.0))):
            return  # a diverged epoch is not kept: the last finite one stays the state
        if self.out_of_space:
            return
        done = epoch + 1
        self.directory.mkdir(parents=True, exist_ok=True)
        weights, best = f"state-{done}.weights.h5", f"best-{done}.npz"
        # h5py crashes the process (SIGSEGV) when the disk fills under it: never start a state
        # that cannot fit, and write each file under a temporary name, renamed when whole
        needed, free = self._state_bytes(), shutil.disk_usage(self.directory).free
        if free < needed + _SPARE_BYTES:
            return self._no_space(
                done, f"{free >> 20} MiB free, the state needs {needed >> 20} MiB"
            )
        partial_weights = self.directory / f".partial-{weights}"
        partial_best = self.directory / f".partial-{best}"
        try:
            self.model.save_weights(partial_weights, overwrite=True)
            with open(partial_best, "wb") as f:
                np.savez(f, *(self.best.weights or []))
            os.replace(partial_weights, self.directory / weights)
            os.replace(partial_best, self.directory / best)
        except OSError as e:
            partial_weights.unlink(missing_ok=True)
            partial_best.unlink(missing_ok=True)
            return self._no_space(done, e.strerror or str(e))
        state = {
            "epochs_done": done,
            "weights": weights,
            "best_weights": best,
            "made_by": self.made_by,
            "best": {"value": self.best.best, "epoch": self.best.best_epoch},
            "history": self.epoch_log.history,
            "random_states": [
                [int(n) for n in keras.ops.convert_to_numpy(variable)]
                for variable in random_states(self.model)
            ],
            "counters": [
                {name: _plain(getattr(c, name)) for name in _COUNTERS if hasattr(c, name)}
                for c in self.counted
            ],
        }
        staged = self.directory / (STATE + ".partial")
        try:
            staged.write_text(json.dumps(state, indent=1) + "\n")
        except OSError as e:
            staged.unlink(missing_ok=True)
            return self._no_space(done, e.strerror or str(e))
        os.replace(staged, self.directory / STATE)  # the commit point
        for old in self.directory.iterdir():
            if old.name not in (STATE, weights, best) and old.name.startswith(("state-", "best-")):
                old.unlink()

    def _state_bytes(self) -> int:
        """About what one epoch's state takes on disk: the model's and the optimizer's variables,
        and the best weights."""
        variables = [*self.model.weights, *self.model.optimizer.variables]
        sizes = [int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in variables]
        return sum(sizes) + sum(w.nbytes for w in self.best.weights or [])

    def _no_space(self, epoch: int, reason: str) -> None:
        """Stop checkpointing, saying so once; training goes on and writes its model at the end."""
        self.out_of_space = True
        kept = _last_kept(self.directory)
        log.warning(
            "checkpoint %s: no room for epoch %d's state (%s); training goes on without "
            "checkpoints%s",
            self.directory,
            epoch,
            reason,
            f" (the last is epoch {kept})" if kept else "",
        )


def _last_kept(directory: Path) -> int | None:
    """The epoch of the state a retried run would resume from, if any."""
    try:
        state = json_value(read_file(directory / STATE, STATE, RECORD_BYTES), "state")
        done = state["epochs_done"]
        return done if type(done) is int else None
    except (InputError, KeyError, TypeError):
        return None


def _read_state(path: Path) -> dict:
    """state.json, checked to have the shape on_epoch_end writes: its file names follow from its
    epoch count (nothing outside the directory is read) and only the known counters are set back."""
    number = (int, float)
    try:
        state = json_value(read_file(path, str(path), RECORD_BYTES), str(path))
        done = state["epochs_done"]
        counters, best = state["counters"], state["best"]
        well_formed = (
            type(done) is int
            and done >= 1
            and isinstance(state["made_by"], dict)
            and state["weights"] == f"state-{done}.weights.h5"
            and state["best_weights"] == f"best-{done}.npz"
            and isinstance(state["history"], list)
            and len(state["history"]) == done
            and not history_problem(state["history"])
            and isinstance(state["random_states"], list)
            and all(
                isinstance(v, list) and len(v) == 2 and all(type(n) is int for n in v)
                for v in state["random_states"]
            )
            and isinstance(best["value"], number)
            and type(best["epoch"]) is int
            and isinstance(counters, list)
            and all(
                isinstance(c, dict)
                and set(c) <= set(_COUNTERS)
                and all(v is None or isinstance(v, number) for v in c.values())
                for c in counters
            )
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        well_formed = False
    if not well_formed:
        raise InputError(f"{path}: not a training checkpoint written by alexnet-kfp train")
    return state


def random_states(model: keras.Model) -> list:
    """The model's random-number states that save_weights leaves out (the dropout layers' seed
    generators), in the network's order."""
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def _plain(value):
    """A JSON-able copy of a callback counter (numpy and Keras scalars, infinities as floats)."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    return value.item() if isinstance(value, np.generic) else value


def _differences(saved: dict, now: dict) -> str:
    """'variant: article -> cifar, ...' for the parameters and data that differ."""

    def flat(made_by: dict) -> dict:
        return {**made_by.get("parameters", {}), "train split sha256": made_by.get("train_sha256")}

    before, after = flat(saved), flat(now)
    return ", ".join(
        f"{k}: {before.get(k)} -> {after.get(k)}"
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    )
