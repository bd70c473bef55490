"""One trial of a sweep: train with its settings on the train and validation splits, and report how
it went as its result, a failure included.

KFP cannot go on past a failed loop iteration (its backend collects every iteration's outputs:
docs/sweep.md), so a trial never fails for its own sake: a loss that diverges, settings the step
refuses or a fault in training become a `failed` result. A pod that ends without a result (evicted,
preempted, killed for memory) is retried by KFP, each attempt counted in the trial's folder of the
run's workspace; the attempt after the last one it may train reports the trial `lost` instead.
"""

import logging
import shutil
from dataclasses import fields
from pathlib import Path

from alexnet_kfp.errors import InputError
from alexnet_kfp.files import make_directory
from alexnet_kfp.records import FAILED, LOST, TRAINED, TrialRecord
from alexnet_kfp.train.checkpoint import unwritable
from alexnet_kfp.train.config import TrainConfig
from alexnet_kfp.train.fit import train
from alexnet_kfp.train.halving import Halving, trial_folder
from alexnet_kfp.untrusted import read_text, whole_number

log = logging.getLogger(__name__)

ATTEMPTS = "attempts"  # the file in the trial's folder that counts its pods (in a rung's)


def run_trial(
    dataset_dir: str | Path,
    model_dir: str | Path,
    trial: dict,
    workspace: str | Path | None,
    training_attempts: int,
    halving: Halving | None = None,
    rung: int = 0,
) -> TrialRecord:
    """Run one planned trial (trials.plan_trials) into `model_dir` (its model and trial.json, or
    trial.json alone when it failed); with `workspace`, checkpoint it in workspace/trial-<index>
    and count its attempts there: past `training_attempts`, report it lost without training.
    With `halving`, train up to the end of rung `rung` (from 0) and keep the checkpoint for the
    next rung unless it is the last."""
    index, given = int(trial["index"]), _as_declared(dict(trial["given"]))
    settings = _as_declared(dict(trial["settings"]))
    folder = trial_folder(workspace, index)
    if folder is not None and (problem := unwritable(folder)):
        log.info("trial %d: no checkpoint and no attempt count: %s", index, problem)
        folder = None
    attempt = _count_attempt(folder, rung) if folder is not None else 1
    record = TrialRecord(index, given, settings, TRAINED, "", attempt)
    last_rung = halving is None or rung == halving.rungs - 1
    if halving is not None:
        record.rung = rung + 1
    if attempt > training_attempts:
        record.status = LOST
        record.reason = (
            f"its pod ended without a result {training_attempts} times (evicted, preempted or "
            "out of memory: see those attempts' logs)"
        )
    else:
        try:
            config = TrainConfig.of(settings)
            until = halving.rung_epochs(config.epochs)[rung] if halving else None
            trained = train(
                dataset_dir,
                model_dir,
                config,
                checkpoint_dir=folder / "checkpoint" if folder is not None else None,
                run_name=f"trial-{index}" + (f"-rung-{rung + 1}" if halving else ""),
                until_epoch=until,
            )
        except InputError as e:  # refused settings, a diverged loss
            record.status, record.reason = FAILED, str(e)
        except Exception as e:  # a fault in this trial's training: the others go on
            log.exception("trial %d failed", index)
            record.status, record.reason = FAILED, f"{type(e).__name__}: {e}"
        else:
            record.best_val_accuracy = trained.best_val_accuracy
            record.best_epoch = trained.best_epoch
            record.epochs_run = trained.epochs_run
            record.decayed_after = [decay.after_epoch for decay in trained.learning_rate_decays]
            record.wall_seconds = trained.wall_seconds
            record.images_per_second = trained.images_per_second
            record.device = trained.device
    if folder is not None and (last_rung or record.status != TRAINED):
        # done with: the workspace holds only the trials that run or go on to a next rung
        shutil.rmtree(folder / "checkpoint", ignore_errors=True)
    if record.status != TRAINED:
        log.info("trial %d %s: %s", index, record.status, record.reason)
    make_directory(Path(model_dir), str(model_dir))
    record.write(model_dir)
    return record


def _count_attempt(folder: Path, rung: int) -> int:
    """This attempt's number in rung `rung`: one more than the folder's count, which it then
    holds."""
    counter = folder / (f"{ATTEMPTS}-rung-{rung + 1}" if rung else ATTEMPTS)
    try:
        done = whole_number(read_text(counter, str(counter), 64).strip(), f"{counter}: count")
    except InputError:  # none yet, or not a count this step wrote: counted afresh
        done = 0
    counter.write_text(f"{done + 1}\n")
    return done + 1


def _as_declared(settings: dict) -> dict:
    """`settings` with whole numbers made ints where TrainConfig declares ints: a dict passed
    through KFP arrives as JSON whose numbers are all doubles."""
    ints = {f.name for f in fields(TrainConfig) if f.type is int}
    return {key: _whole(value) if key in ints else value for key, value in settings.items()}


def _whole(value: object) -> object:
    return int(value) if isinstance(value, float) and value.is_integer() else value
