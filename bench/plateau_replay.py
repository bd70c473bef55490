"""When would each plateau rule have fired the first learning-rate decay? Replays recorded training
histories through Keras's own ReduceLROnPlateau, side by side for several patience/min_delta
choices, without training again (a cooldown only acts after a decay, so it cannot be replayed).

    python bench/plateau_replay.py MODEL_DIR_OR_HISTORY_JSON ...

Until the first decay, a run's trajectory does not depend on the plateau rule (same seed, data and
augmentation), so the epoch at which each rule would first fire is exact; what follows it is not,
and is not shown: a rule that would fire later than the recorded decay says "after N". Epochs are
the ones after which the decay fires (the next epoch trains at the lower rate).
"""

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras

from alexnet_kfp.train.config import TrainConfig
from alexnet_kfp.train.schedule import schedule_callbacks

# (patience, min_delta): the shipped default first, then its neighbours.
RULES = [(5, 1e-4), (3, 1e-4), (4, 1e-4), (6, 1e-4), (3, 0.01), (5, 0.01)]


def _history(path: Path) -> list[dict]:
    return json.loads((path / "history.json" if path.is_dir() else path).read_text())


def first_decay(val_accuracy: list[float], patience: int, min_delta: float) -> int | None:
    """The 1-based epoch after which the training's own ReduceLROnPlateau first lowers the learning
    rate."""
    config = TrainConfig(plateau_patience=patience, plateau_min_delta=min_delta)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="mse")
    rule = schedule_callbacks(config)[0]
    rule.set_model(model)
    rule.on_train_begin()
    for epoch, value in enumerate(val_accuracy):
        rule.on_epoch_end(epoch, {"val_accuracy": value})
        if float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) < config.learning_rate:
            return epoch + 1
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "runs",
        nargs="+",
        type=Path,
        help="model directories (history.json inside) or history files",
    )
    args = parser.parse_args()
    print(
        "| run | recorded first decay | "
        + " | ".join(f"patience {p}, min_delta {d:g}" for p, d in RULES)
        + " |"
    )
    print("|---|---|" + "---|" * len(RULES))
    for run in args.runs:
        history = _history(run)
        initial = history[0]["lr"]
        recorded = next(
            (e["epoch"] - 1 for e in history if e["lr"] < initial), None
        )  # lr is logged at epoch start
        known = history[:recorded] if recorded else history  # the epochs every rule saw alike
        cells = []
        for rule in RULES:
            fired = first_decay([e["val_accuracy"] for e in known], *rule)
            cells.append(str(fired) if fired else f"after {len(known)}")
        name = run.name if run.is_dir() else run.parent.name
        print(f"| {name} | {recorded or 'none'} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
