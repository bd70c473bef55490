"""What a training puts on the pipeline's MLflow run, to compare runs by: its best validation
accuracy, network, epochs and data; in a sweep, the select step puts the winner's there and names
it (each trial's own run, nested under the sweep's, keeps its curves). Free of Keras: the select
step does not load TensorFlow."""

from collections.abc import Mapping
from pathlib import Path

from alexnet_kfp.records import SweepRecord, TrainRecord
from alexnet_kfp.tracking import Tracker, tracked


def log_headline(tracker: Tracker, record: TrainRecord, extra_tags: Mapping[str, object]) -> None:
    trained_on = record.dataset
    tags = {
        "network": record.variant,
        "epochs": record.parameters.get("epochs"),
        "dataset_sha256": trained_on.source_sha256 or "",
        "trial": str(bool(trained_on.limit_per_class)).lower(),  # trained on a sample
    }
    tracker.headline({"best_val_accuracy": record.best_val_accuracy}, {**tags, **extra_tags})


def log_selection(sweep: SweepRecord, model_dir: Path) -> None:
    """The select step's run: how many trials trained, the winner and its settings, sweep.json;
    the winner's training on the pipeline's run."""
    winner = next(t for t in sweep.trials if t.index == sweep.winner)
    with tracked("select") as tracker:
        trained = [t for t in sweep.trials if t.best_val_accuracy is not None]
        tracker.metrics({"trials": len(sweep.trials), "trials_trained": len(trained)})
        named = {
            "sweep_winner": f"trial-{winner.index}",
            "sweep_rule": sweep.rule,
            **{f"sweep_winner.{key}": value for key, value in winner.given.items()},
        }
        tracker.tags(named)
        if tracker.active:  # the winner's train.json, read only when there is somewhere to log
            log_headline(tracker, TrainRecord.read(model_dir), named)
        tracker.artifacts(model_dir / SweepRecord.FILE)
