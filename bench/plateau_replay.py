"""When would each learning-rate rule have fired the first decay, and how many epochs of the budget
would have trained at the decayed rate? Replays recorded training histories through the training's
own callbacks (alexnet_kfp/train/schedule.py), side by side for several rules, without training
again.

    python bench/plateau_replay.py bench/histories/*.json MODEL_DIR ...

A history is a model directory (history.json, and train.json for the budget) or a JSON file of
bench/histories/ ({"epochs": budget, "first_decay": recorded or null, "val_accuracy": [...]}).
Until its first decay, a run's trajectory does not depend on the rule (same seed, data and
augmentation), so the epoch at which each rule would first fire is exact; what follows it is not,
and is not shown: a rule that would fire after the recorded decay says "after N". Epochs are the
ones after which the decay fires (the next epoch trains at the lower rate).
"""

import argparse
import json
import math
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras

from alexnet_kfp.train.callbacks import EpochLog
from alexnet_kfp.train.config import TrainConfig
from alexnet_kfp.train.schedule import final_decay_of, schedule_callbacks

# name -> TrainConfig fields (a callable of the budget for rules that depend on it); the default
# first, then what it replaced, then the alternatives.
RULES: dict[str, dict | object] = {
    "plateau 5 + final 0.15 (default)": {},
    "plateau 5 alone (before)": {"final_decay_fraction": 0.0},
    "plateau 5 + final 0.10": {"final_decay_fraction": 0.10},
    "plateau 5 + final 0.25": {"final_decay_fraction": 0.25},
    "plateau 3 alone": {"plateau_patience": 3, "final_decay_fraction": 0.0},
    "patience ceil(budget / 8) alone": lambda epochs: {
        "plateau_patience": math.ceil(epochs / 8),
        "final_decay_fraction": 0.0,
    },
}


def _rate(model: keras.Model) -> float:
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


def first_decay(val_accuracy: list[float], config: TrainConfig) -> tuple[int, str] | None:
    """(1-based epoch after which the rate first decays, the rule that decayed it)."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="mse")
    epoch_log = EpochLog(config.epochs, 1)
    schedule = schedule_callbacks(config, epoch_log)
    for callback in schedule:
        callback.set_model(model)
        callback.on_train_begin()
    for epoch, value in enumerate(val_accuracy):
        epoch_log.learning_rate = _rate(model)  # as EpochLog.on_epoch_begin records it
        for callback in schedule:
            callback.on_epoch_end(epoch, {"val_accuracy": value})
        epoch_log.history.append({"epoch": epoch + 1, "lr": epoch_log.learning_rate})
        if _rate(model) < config.learning_rate:
            return epoch + 1, "final" if final_decay_of(schedule).fired_after else "plateau"
    return None


def _load(path: Path) -> tuple[str, int, int | None, list[float]]:
    """(name, budget, recorded first decay, validation accuracy by epoch)."""
    if path.is_dir():
        history = json.loads((path / "history.json").read_text())
        epochs = json.loads((path / "train.json").read_text())["parameters"]["epochs"]
        initial = history[0]["lr"]
        # lr is logged at epoch start: the first lower one trained after the decay
        recorded = next((e["epoch"] - 1 for e in history if e["lr"] < initial), None)
        return path.name, epochs, recorded, [e["val_accuracy"] for e in history]
    run = json.loads(path.read_text())
    return path.stem, run["epochs"], run["first_decay"], run["val_accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="model directories or history files")
    args = parser.parse_args()
    print("| run (budget) | recorded first decay | " + " | ".join(RULES) + " |")
    print("|---|---|" + "---|" * len(RULES))
    for path in args.runs:
        name, epochs, recorded, val_accuracy = _load(path)
        known = val_accuracy[:recorded] if recorded else val_accuracy  # what every rule saw alike
        cells = []
        for rule in RULES.values():
            fields = rule(epochs) if callable(rule) else rule
            fired = first_decay(known, TrainConfig(epochs=epochs, **fields))
            if fired is None:
                cells.append(f"after {len(known)}" if recorded else "none")
            else:
                decayed_epochs = epochs - fired[0]
                cells.append(f"{fired[0]} ({fired[1]}; {decayed_epochs} decayed)")
        print(f"| {name} ({epochs}) | {recorded or 'none'} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
