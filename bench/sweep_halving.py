"""Successive halving against training every trial to the full budget, side by side in one run on
the same Dataset and the same sampled trials: which configuration each picks, its validation
accuracy, the epochs and the time each spends (the table in docs/sweep.md).

    python bench/sweep_halving.py --source ARCHIVE_OR_URL [--sha256 HEX] --work DIR

Both go through the sweep's own trial and keep code (train/trial.py, train/halving.py), each trial
checkpointing every epoch as in the pipeline's workspace. A trial that goes on to a next rung is
the same training as one never stopped, so halving's figures for a trial must be the first epochs
of that trial's full training: the bench checks it and says so.
"""

import argparse
import json
import time
from pathlib import Path

from measure import print_machine

from alexnet_kfp.data.prepare import prepare_dataset
from alexnet_kfp.machine import describe_cpu
from alexnet_kfp.pipeline.grid import trial_defaults
from alexnet_kfp.pipeline.sampling import sampled_trials
from alexnet_kfp.records import TrialRecord
from alexnet_kfp.train.halving import Halving, keep_best, planned_of
from alexnet_kfp.train.selection import best_trial
from alexnet_kfp.train.trial import run_trial
from alexnet_kfp.train.trials import plan_trials

SAMPLES = ["learning_rate=loguniform:3e-5:3e-3", "batch_size=choice:64,128,256"]


def _full(dataset: Path, work: Path, planned: list[dict]) -> tuple[list[TrialRecord], float]:
    started, records = time.perf_counter(), []
    for trial in planned:
        record = run_trial(dataset, work / f"full-{trial['index']}", trial, work / "full-ws", 1)
        print(f"full    trial {record.index}: {record.status} {record.best_val_accuracy}")
        records.append(record)
    return records, time.perf_counter() - started


def _halving(
    dataset: Path, work: Path, planned: list[dict], halving: Halving
) -> tuple[list[TrialRecord], float]:
    """Every trial's last record under halving, and the time it took."""
    started, last, entering = time.perf_counter(), {}, planned
    for rung in range(halving.rungs):
        records = []
        for trial in entering:
            out = work / f"halving-{trial['index']}-rung-{rung + 1}"
            record = run_trial(dataset, out, trial, work / "halving-ws", 1, halving, rung)
            print(f"halving trial {record.index} rung {rung + 1}: {record.best_val_accuracy}")
            records.append(record)
        last.update({r.index: r for r in records})
        if rung < halving.rungs - 1:
            going_on, _ = keep_best(records, halving, rung)
            entering = [planned_of(t) for t in going_on]
    return [last[i] for i in sorted(last)], time.perf_counter() - started


def _prefix_matches(work: Path, halved: TrialRecord) -> bool:
    """Whether a halving trial's validation curve is the first epochs of its full training."""
    rung_dir = work / f"halving-{halved.index}-rung-{halved.rung}"
    full = json.loads((work / f"full-{halved.index}" / "history.json").read_text())
    if not (rung_dir / "history.json").is_file():
        return False
    part = json.loads((rung_dir / "history.json").read_text())
    return [e["val_accuracy"] for e in part] == [e["val_accuracy"] for e in full[: len(part)]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, help="CIFAR-10's archive (path or URL)")
    parser.add_argument("--sha256", default="", help="the archive's expected SHA-256")
    parser.add_argument("--work", required=True, type=Path, help="a new directory for the runs")
    parser.add_argument("--limit-per-class", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=9, help="the full budget of each trial")
    parser.add_argument("--count", type=int, default=9, help="sampled configurations")
    parser.add_argument("--draw-seed", type=int, default=0)
    parser.add_argument("--eta", type=int, default=3)
    parser.add_argument("--rungs", type=int, default=3)
    args = parser.parse_args()
    print_machine()
    halving = Halving(args.eta, args.rungs).check()
    dataset = args.work / "dataset"
    prepare_dataset(
        dataset, source=args.source, sha256=args.sha256, limit_per_class=args.limit_per_class
    )
    defaults = trial_defaults() | {
        "variant": "article", "epochs": args.epochs, "require_gpu": False, "crop_padding": 0,
        "precision": "float32",
    }  # fmt: skip
    trials = sampled_trials(SAMPLES, args.count, args.draw_seed)
    planned = [dict(t) for t in plan_trials(trials, defaults, halving)]
    full, full_s = _full(dataset, args.work, planned)
    halved, halved_s = _halving(dataset, args.work, planned, halving)
    full_epochs = sum(r.epochs_run or 0 for r in full)
    halved_epochs = halving.epochs_spent(len(planned), args.epochs)
    picks = {"full": best_trial(full), "halving": best_trial(halved)}
    result = {
        "cpu": describe_cpu(),
        "date": time.strftime("%Y-%m-%d"),
        "dataset": f"{args.limit_per_class} images per class of {Path(args.source).name}",
        "trials": [t["given"] for t in planned],
        "full": [r.to_dict() for r in full],
        "halving": [r.to_dict() for r in halved],
        "picked": {k: r.index for k, r in picks.items()},
        "epochs": {"full": full_epochs, "halving": halved_epochs},
        "seconds": {"full": round(full_s), "halving": round(halved_s)},
        "prefix_exact": all(_prefix_matches(args.work, r) for r in halved if r.rung),
    }
    (args.work / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    _print_table(result, full, halved, picks)


def _print_table(result: dict, full: list, halved: list, picks: dict) -> None:
    print(f"\n{result['cpu']}, {result['date']}; {result['dataset']}")
    print("| trial | settings | full: best val acc | halving: rung reached | halving: val acc |")
    print("|---|---|---|---|---|")
    for f, h in zip(full, halved, strict=True):
        marks = [k for k, r in picks.items() if r.index == f.index]
        mark = f" (picked by {' and '.join(marks)})" if marks else ""
        print(
            f"| {f.index}{mark} | `{json.dumps(f.given, sort_keys=True)}` | "
            f"{f.best_val_accuracy:.4f} | {h.rung} | {h.best_val_accuracy:.4f} |"
        )
    full_pick = picks["full"].best_val_accuracy
    halving_pick = next(r for r in full if r.index == picks["halving"].index).best_val_accuracy
    epochs, seconds = result["epochs"], result["seconds"]
    print(
        f"\npicked: full {picks['full'].index} ({full_pick:.4f}), halving "
        f"{picks['halving'].index} ({halving_pick:.4f}): {100 * (full_pick - halving_pick):.2f} "
        f"points apart\nepochs: halving {epochs['halving']} / full {epochs['full']} = "
        f"{epochs['halving'] / epochs['full']:.1%}\ntime: halving {seconds['halving']} s / full "
        f"{seconds['full']} s = {seconds['halving'] / seconds['full']:.1%}\n"
        f"halving's curves are the first epochs of the full trainings: {result['prefix_exact']}"
    )


if __name__ == "__main__":
    main()
