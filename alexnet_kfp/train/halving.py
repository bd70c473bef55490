"""Successive halving: every trial trains a first share of its epochs, the best 1/ETA by
validation accuracy go on from their checkpoints, and so on until the last rung trains the few
left to the full budget (Jamieson and Talwalkar, 2016; Hyperband's inner loop).

With R rungs, rung r (from 0) ends at epochs / ETA^(R-1-r): ETA 3 and 3 rungs of 27 epochs stop
at 3, 9 and 27. The learning-rate schedule is the full budget's (the final decay comes in the
last rung), so a trial that goes on is the same training as one never stopped. Free of
TensorFlow and kfp: the plan, the trials, the keep steps and the bench all use it.
"""

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from alexnet_kfp.errors import InputError
from alexnet_kfp.files import write_atomically
from alexnet_kfp.records import RECORD_BYTES, STOPPED, TRAINED, HalvingRecord, TrialRecord
from alexnet_kfp.untrusted import json_value, read_file

ETAS = range(2, 5)  # keep 1/2, 1/3 or 1/4 of the trials at each rung
RUNGS = range(2, 5)
DEFAULT_RUNGS = 3


class Halving(HalvingRecord):
    """The rule (`eta`: a rung keeps the best 1/eta of the trials that entered it; `rungs`: how
    many, the last at the full budget) and its arithmetic."""

    def check(self) -> "Halving":
        if self.eta not in ETAS:
            raise InputError(f"--halving must be {ETAS[0]} to {ETAS[-1]}, got {self.eta}")
        if self.rungs not in RUNGS:
            raise InputError(f"--rungs must be {RUNGS[0]} to {RUNGS[-1]}, got {self.rungs}")
        return self

    def rung_epochs(self, epochs: int) -> list[int]:
        """The epoch each rung ends at, for a budget of `epochs`; one line when the first rung
        would train less than an epoch or two rungs would end at the same epoch."""
        ends = [epochs // self.eta ** (self.rungs - 1 - rung) for rung in range(self.rungs)]
        if any(later <= earlier for earlier, later in zip([0, *ends], ends, strict=False)):
            least = self.eta ** (self.rungs - 1)
            raise InputError(
                f"epochs={epochs} is too small to halve {self.rungs - 1} times by {self.eta}: "
                f"the first rung would train {epochs / least:.2g} epochs; give at least {least}"
            )
        return ends

    def kept(self, entered: int) -> int:
        """How many of the `entered` trials of a rung go on to the next: the best 1/eta, at
        least one."""
        return max(1, entered // self.eta)

    def epochs_spent(self, trials: int, epochs: int) -> int:
        """The epochs `trials` trials of `epochs` each train in all when none fails: each rung's
        trials train from the last rung's end to their own."""
        spent, entered, reached = 0, trials, 0
        for end in self.rung_epochs(epochs):
            spent += entered * (end - reached)
            entered, reached = self.kept(entered), end
        return spent


def parse_halving(eta: int, rungs: int) -> Halving | None:
    """The halving a pipeline's constants describe (eta 0: none)."""
    return Halving(eta, rungs).check() if eta else None


def ranked_by_validation(trials: Sequence[TrialRecord], none_trained: str) -> list[TrialRecord]:
    """The trials that trained, best validation accuracy first (a tie: the trial listed first);
    when none did, one line: `none_trained` and why each trial failed."""
    trained = [t for t in trials if t.status == TRAINED and t.best_val_accuracy is not None]
    if not trained:
        reasons = "; ".join(f"trial {t.index} {t.status}: {t.reason}" for t in trials)
        raise InputError(f"{none_trained}: {reasons}")
    return sorted(trained, key=lambda t: (-(t.best_val_accuracy or 0.0), t.index))


def keep_best(
    trials: Sequence[TrialRecord], halving: Halving, rung: int
) -> tuple[list[TrialRecord], list[TrialRecord]]:
    """(the trials that go on, the others) after `rung`: the best `halving.kept(len(trials))` by
    best validation accuracy (a tie: the trial listed first) among those that trained; each of
    the others that trained is made STOPPED with its reason. One line when none trained."""
    ranked = ranked_by_validation(trials, f"every trial failed in rung {rung + 1}, so none goes on")
    count = halving.kept(len(trials))
    going_on, behind = ranked[:count], ranked[count:]
    last_kept = going_on[-1].best_val_accuracy or 0.0
    for trial in behind:
        trial.status = STOPPED
        trial.reason = (
            f"not among the best {count} of {len(trials)} after rung {rung + 1} of "
            f"{halving.rungs} ({trial.best_val_accuracy:.4f} < {last_kept:.4f})"
        )
    stopped = [t for t in trials if t not in going_on]
    return sorted(going_on, key=lambda t: t.index), sorted(stopped, key=lambda t: t.index)


def keep_rung(
    model_dirs: Sequence[str | Path],
    stopped_files: tuple[str | Path, str | Path],
    halving: Halving,
    rung: int,
    workspace: str | Path | None,
) -> list[dict]:
    """After rung `rung` (from 0): the trials that go on, as the next rung's loop hands them on.
    `stopped_files`: (the trials stopped before, where to write them with this rung's). The
    stopped trials' checkpoints leave the workspace."""
    going_on, stopped = keep_best(read_trials(model_dirs), halving, rung)
    for trial in stopped:
        folder = trial_folder(workspace, trial.index)
        if folder is not None:
            shutil.rmtree(folder / "checkpoint", ignore_errors=True)
    before, after = stopped_files
    write_trials([*read_stopped(before), *stopped], after)
    return [planned_of(t) for t in going_on]


def trial_step(index: int, halving: Halving | None, rung: int) -> str:
    """The step's name for trial `index` in rung `rung` (from 0), as its progress names it."""
    return f"trial {index}" + (f", rung {rung + 1} of {halving.rungs}" if halving else "")


def trial_folder(workspace: str | Path | None, index: int) -> Path | None:
    """Trial `index`'s folder in the sweep's workspace folder (None: no workspace)."""
    return Path(workspace) / f"trial-{index}" if workspace else None


def planned_of(trial: TrialRecord) -> dict:
    """A trial as the next rung's loop hands it on: the plan step's {"index", "given",
    "settings"}."""
    return {"index": trial.index, "given": trial.given, "settings": trial.settings}


def read_trials(model_dirs: Sequence[str | Path]) -> list[TrialRecord]:
    """The trial.json of each of a rung's model directories, in the trials' order."""
    return sorted((TrialRecord.read(d) for d in model_dirs), key=lambda t: t.index)


def write_trials(trials: Sequence[TrialRecord], path: str | Path) -> None:
    """Trial records as one JSON file (a list), for the next keep step or the select step."""
    write_atomically(Path(path), json.dumps([trial.to_dict() for trial in trials]) + "\n")


def read_stopped(path: str | Path) -> list[TrialRecord]:
    """The trial records `write_trials` wrote to `path`, or one line naming it."""
    path = Path(path)
    values = json_value(read_file(path, str(path), RECORD_BYTES), str(path), kind="a JSON file")
    if not isinstance(values, list):
        raise InputError(f"{path}: expected a JSON list of trial records")
    return [TrialRecord.of(value, f"{path}[{i}]") for i, value in enumerate(values)]
