"""A sweep's choice: the trial with the best validation accuracy, and the table of every trial.

The choice reads the trials' records (trial.json) and nothing else: validation accuracy is what
decides, the test split stays unseen until the winner alone is evaluated on it.
"""

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from alexnet_kfp.files import atomic_output_dir
from alexnet_kfp.records import STOPPED, TRAINED, HalvingRecord, SweepRecord, TrialRecord
from alexnet_kfp.train.halving import ranked_by_validation
from alexnet_kfp.train.headline import log_selection

_RULE = (
    "the highest best validation accuracy among the trials that trained{}; a tie goes to the "
    "trial listed first"
)
RULE, HALVING_RULE = _RULE.format(""), _RULE.format(" to the full budget (the last rung)")


def best_trial(trials: Sequence[TrialRecord]) -> TrialRecord:
    """The winner by RULE, or one line listing why each trial failed when none trained."""
    return ranked_by_validation(trials, "every trial failed, so there is no model to pass on")[0]


def select(
    model_dirs: Sequence[str | Path],
    out_dir: str | Path,
    stopped: Sequence[TrialRecord] = (),
    halving: HalvingRecord | None = None,
) -> SweepRecord:
    """Copy the winning trial's model directory to `out_dir` with sweep.json beside it (every
    trial, `stopped` in earlier rungs of a `halving` sweep included, the rule, the winner); return
    that record."""
    found = [(Path(d), TrialRecord.read(d)) for d in model_dirs]
    trials = sorted([*stopped, *(trial for _, trial in found)], key=lambda t: t.index)
    winner = best_trial([trial for _, trial in found])
    source = next(folder for folder, trial in found if trial is winner)
    rule = HALVING_RULE if halving else RULE
    plain = HalvingRecord(halving.eta, halving.rungs) if halving else None
    record = SweepRecord(rule=rule, winner=winner.index, trials=trials, halving=plain)
    with atomic_output_dir(out_dir) as staging:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        record.write(staging)
    log_selection(record, Path(out_dir))
    return record


def comparison_markdown(sweep: SweepRecord) -> str:
    """The table of every trial (what it set, how it did, where, how long) and the winner, as
    Markdown: the Kubeflow UI shows a Markdown artifact as a page."""
    varied = list(dict.fromkeys(key for t in sweep.trials for key in t.given))
    rungs = ["rung"] if sweep.halving else []
    header = ["trial", *varied, *rungs, "status", "best val accuracy", "at epoch", "epochs"]
    header += ["rate decayed after", "time", "device"]
    rows = [header, ["---"] * len(header)]
    for t in sweep.trials:
        mark = f"**{t.index}** (chosen)" if t.index == sweep.winner else str(t.index)
        settings = [_cell(t.settings.get(key)) for key in varied]
        if sweep.halving:
            settings.append(f"{t.rung} of {sweep.halving.rungs}" if t.rung else "")
        if t.status in (TRAINED, STOPPED):
            outcome = [
                t.status if t.status == TRAINED else f"{t.status}: {_cell(t.reason)}",
                f"{t.best_val_accuracy:.4f}",
                str(t.best_epoch),
                str(t.epochs_run),
                ", ".join(map(str, t.decayed_after)) or "never",
                f"{t.wall_seconds:.0f} s",
                _cell(t.device),
            ]
        else:
            outcome = [f"{t.status}: {_cell(t.reason)}", "", "", "", "", "", ""]
        rows.append([mark, *settings, *outcome])
    winner = next(t for t in sweep.trials if t.index == sweep.winner)
    lines = [
        f"# Sweep: {len(sweep.trials)} trials, trial {sweep.winner} chosen",
        "",
        f"Chosen by {sweep.rule}. The test split was read by no trial: only the chosen model is "
        "evaluated on it.",
        "",
        *_halving_lines(sweep.halving),
        f"Trial {sweep.winner}'s settings: `{json.dumps(winner.settings, sort_keys=True)}`",
        "",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    return "\n".join(lines) + "\n"


def _halving_lines(halving: HalvingRecord | None) -> list[str]:
    if halving is None:
        return []
    return [
        f"Successive halving: {halving.rungs} rungs, each keeping the best 1/{halving.eta} of "
        "its trials by validation accuracy; a trial's figures are those of the last rung it "
        "trained in (its time: that rung's).",
        "",
    ]


def _cell(value: object) -> str:
    """A value as a table cell: one line, no column separator."""
    text = value if isinstance(value, str) else json.dumps(value)
    return " ".join(text.split()).replace("|", "\\|")
