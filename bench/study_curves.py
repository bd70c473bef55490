"""Validation accuracy by epoch of several training runs in one picture (the accuracy study's figure
in docs/training.md), each labelled by what made it (train.json) and what it reached on the test
split (the metrics.json of `alexnet-kfp evaluate`, when given).

    python bench/study_curves.py --out study.png MODEL_DIR[:EVAL_DIR] ...

A marker on each epoch that trained at a lower learning rate than the one before: a dot where the
plateau rule decayed it, a square where the final decay did (train.json's learning_rate_decays;
runs recorded before it have dots only).
"""

import argparse
import itertools
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

# Runs recorded before the article's network was renamed (it was `seed`).
_RENAMED = {"seed": "article"}


def _label(train_info: dict, eval_dir: Path | None) -> str:
    p = train_info["parameters"]
    variant = _RENAMED.get(p["variant"], p["variant"])
    label = (
        f"{variant}, seed {p['seed']}, patience {p['plateau_patience']}, crop "
        f"{p.get('crop_padding', 0)}"
    )
    if p.get("final_decay_fraction"):
        label += f", final {p['final_decay_fraction']:g}"
    if eval_dir:
        label += f": test {json.loads((eval_dir / 'metrics.json').read_text())['accuracy']:.2%}"
    return label


def _decays(train_info: dict, history: list[dict]) -> dict[str, set[int]]:
    """The first epoch at each lower rate, by marker: "o" the plateau rule's, "s" the final's."""
    recorded = train_info.get("learning_rate_decays")
    if recorded is None:  # a run from before train.json listed its decays
        lowered = {e["epoch"] for b, e in itertools.pairwise(history) if e["lr"] < b["lr"]}
        return {"o": lowered}
    by_rule = {"plateau": "o", "final": "s"}
    markers: dict[str, set[int]] = {"o": set(), "s": set()}
    for decay in recorded:
        markers[by_rule.get(decay["rule"], "o")].add(decay["after_epoch"] + 1)
    return markers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="MODEL_DIR or MODEL_DIR:EVAL_DIR")
    parser.add_argument("--out", required=True, type=Path, help="the PNG to write")
    args = parser.parse_args()
    figure, axes = plt.subplots(figsize=(9, 5), dpi=110)
    for run in args.runs:
        model_dir, _, eval_dir = run.partition(":")
        history = json.loads((Path(model_dir) / "history.json").read_text())
        train_info = json.loads((Path(model_dir) / "train.json").read_text())
        epochs = [e["epoch"] for e in history]
        (line,) = axes.plot(
            epochs,
            [100 * e["val_accuracy"] for e in history],
            label=_label(train_info, Path(eval_dir) if eval_dir else None),
        )
        for marker, epochs_after in _decays(train_info, history).items():
            decayed = [e for e in history if e["epoch"] in epochs_after]
            axes.plot(
                [e["epoch"] for e in decayed],
                [100 * e["val_accuracy"] for e in decayed],
                marker,
                color=line.get_color(),
            )
    axes.set(
        xlabel="epoch",
        ylabel="validation accuracy (%)",
        title="CIFAR-10 validation accuracy by epoch (first epoch at a lower learning rate: "
        "dot plateau, square final)",
    )
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
