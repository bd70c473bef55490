"""Resumable training (--checkpoint-dir): a run killed with SIGKILL continues from its last finished
epoch and ends with the uninterrupted run's weights and learning-rate decays (plateau or final,
killed before or after them), a finished run extends with more epochs, and a checkpoint made by
other parameters is refused."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from alexnet_kfp.errors import InputError
from alexnet_kfp.train.config import TrainConfig
from alexnet_kfp.train.fit import train

from .cli import cli_args

pytestmark = pytest.mark.integration

EPOCHS = 8
# min_delta 1 makes every epoch after the first a plateau: patience 1 halves the rate after each
# one, so the rate of every epoch says whether the optimizer and the plateau counters came back.
PLATEAU = ["--plateau-patience", "1", "--plateau-factor", "0.5", "--plateau-min-delta", "1.0"]
# a plateau rule that cannot fire: the final decay, after epoch 6 of 8, is the only one
FINAL = ["--plateau-patience", "100", "--final-decay-fraction", "0.25"]
FINAL_RATES = [1e-3] * 6 + [2e-4] * 2
# flags, the rate of each epoch, the rule of each decay, the epoch after which the run is killed
SCHEDULES = {
    "a plateau decay every epoch": (
        PLATEAU,
        [1e-3, 1e-3] + [1e-3 * 0.5**n for n in range(1, EPOCHS - 1)],
        ["plateau"] * (EPOCHS - 2),
        2,
    ),
    "the final decay after the kill": (FINAL, FINAL_RATES, ["final"], 2),
    "the final decay before the kill": (FINAL, FINAL_RATES, ["final"], 7),
}


def _train_command(dataset, out, checkpoint, schedule: list[str]) -> list[str]:
    return cli_args(
        "train",
        "--variant",
        "article",
        "--data",
        dataset,
        "--out",
        out,
        "--epochs",
        EPOCHS,
        "--precision",
        "float32",
        "--checkpoint-dir",
        checkpoint,
        *schedule,
    )


def _epochs_done(checkpoint) -> int:
    try:
        return json.loads((checkpoint / "state.json").read_text())["epochs_done"]
    except FileNotFoundError:
        return 0


def _same_model(a, b) -> bool:
    first, second = (keras.saving.load_model(d / "model.keras").get_weights() for d in (a, b))
    return all(np.array_equal(x, y) for x, y in zip(first, second, strict=True))


def _scalars(run_dir, tag: str) -> list[tuple[int, float]]:
    """(step, value) of one scalar in a TensorBoard run directory's event files."""
    points = []
    for path in sorted(run_dir.glob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.tag == tag:
                    points.append((event.step, float(tf.make_ndarray(value.tensor))))
    return points


def _measured(history: list[dict]) -> list[dict]:
    """An epoch's record without its timing."""
    return [
        {k: v for k, v in e.items() if k not in ("seconds", "images_per_second")} for e in history
    ]


@pytest.fixture(scope="module")
def uninterrupted(tiny_dataset, tmp_path_factory):
    """The uninterrupted run of a schedule's flags, trained once for the schedules that share them
    (the final decay, killed before or after it)."""
    made: dict[tuple[str, ...], Path] = {}

    def run(flags: list[str]):
        if tuple(flags) not in made:
            folder = tmp_path_factory.mktemp("uninterrupted")
            command = _train_command(tiny_dataset, folder / "model", folder / "ckpt", flags)
            subprocess.run(command, check=True, timeout=600)
            made[tuple(flags)] = folder / "model"
        return made[tuple(flags)]

    return run


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_a_killed_run_continues_as_if_never_stopped(
    tiny_dataset, tmp_path, schedule, uninterrupted
):
    flags, rates, rules, kill_after = SCHEDULES[schedule]
    checkpoint, out = tmp_path / "checkpoint", tmp_path / "model"
    whole = uninterrupted(flags)
    first = subprocess.Popen(
        _train_command(tiny_dataset, out, checkpoint, flags),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    deadline = time.monotonic() + 600
    while (
        _epochs_done(checkpoint) < kill_after
        and first.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)
    first.wait()
    done = _epochs_done(checkpoint)
    assert kill_after <= done < EPOCHS, f"the kill came after epoch {done}"
    saved = json.loads((checkpoint / "state.json").read_text())["history"]
    assert not out.exists()

    again = subprocess.run(
        _train_command(tiny_dataset, out, checkpoint, flags),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    history = json.loads((out / "history.json").read_text())
    assert [e["epoch"] for e in history] == list(range(1, EPOCHS + 1))
    assert history[:done] == saved  # kept, not trained again
    # Adam's rate and the schedule's counters came back
    assert [e["lr"] for e in history] == pytest.approx(rates)
    # the batches, augmentation, dropout and optimizer went on where they stopped
    assert _measured(history) == _measured(json.loads((whole / "history.json").read_text()))
    assert _same_model(out, whole)
    # TensorBoard shows every epoch, the ones before the kill included
    assert _scalars(out / "tensorboard" / "validation", "epoch_accuracy") == [
        (e["epoch"], pytest.approx(e["val_accuracy"])) for e in history
    ]
    assert [v for _, v in _scalars(out / "tensorboard" / "train", "epoch_learning_rate")] == (
        pytest.approx(rates)
    )
    record = json.loads((out / "train.json").read_text())
    assert [d["rule"] for d in record["learning_rate_decays"]] == rules
    assert record["checkpoint"]["resumed_after_epoch"] == done and record["epochs_run"] == EPOCHS
    assert record["best_val_accuracy"] == max(e["val_accuracy"] for e in history)
    assert sorted(p.name for p in checkpoint.iterdir()) == [
        f"best-{EPOCHS}.npz",
        "lock",
        f"state-{EPOCHS}.weights.h5",
        "state.json",
    ]  # older epochs' files are gone


def test_a_finished_run_extends_with_a_larger_epoch_budget_and_never_shrinks(
    tiny_dataset, tmp_path
):
    checkpoint = tmp_path / "checkpoint"
    config = TrainConfig(variant="article", epochs=2, precision="float32")
    train(tiny_dataset, tmp_path / "two", config, checkpoint_dir=checkpoint)
    again = train(
        tiny_dataset, tmp_path / "again", config, checkpoint_dir=checkpoint
    )  # the same budget: no training
    record = train(
        tiny_dataset,
        tmp_path / "three",
        TrainConfig(variant="article", epochs=3, precision="float32"),
        checkpoint_dir=checkpoint,
    )
    two = json.loads((tmp_path / "two" / "history.json").read_text())
    assert json.loads((tmp_path / "again" / "history.json").read_text()) == two
    assert again.epochs_run == 2 and again.best_val_accuracy == max(e["val_accuracy"] for e in two)
    assert _same_model(tmp_path / "two", tmp_path / "again")  # the checkpoint's, not a new one
    three = json.loads((tmp_path / "three" / "history.json").read_text())
    assert three[:2] == two and [e["epoch"] for e in three] == [1, 2, 3]
    assert record.checkpoint.resumed_after_epoch == 2 and record.epochs_run == 3
    with pytest.raises(
        InputError, match="has 3 epochs done, more than --epochs 2; pass --epochs 3"
    ):
        train(tiny_dataset, tmp_path / "fewer", config, checkpoint_dir=checkpoint)
    assert not (tmp_path / "fewer").exists()


def test_a_checkpoint_of_other_parameters_or_garbage_is_refused(tiny_dataset, tmp_path):
    checkpoint = tmp_path / "checkpoint"
    train(
        tiny_dataset,
        tmp_path / "a",
        TrainConfig(variant="article", epochs=1, precision="float32"),
        checkpoint_dir=checkpoint,
    )
    config = TrainConfig(variant="article", epochs=2, precision="float32")
    with pytest.raises(
        InputError,
        match=r"made by other parameters or data \(crop_padding: 4 -> 0, seed: 42 -> 7\)",
    ):
        train(
            tiny_dataset,
            tmp_path / "b",
            TrainConfig(variant="article", epochs=2, seed=7, crop_padding=0, precision="float32"),
            checkpoint_dir=checkpoint,
        )
    good = json.loads((checkpoint / "state.json").read_text())
    hostile = [
        "[1, 2",  # cut short
        json.dumps({**good, "weights": "../a/model.keras"}),  # a file outside the checkpoint
        json.dumps(
            {**good, "counters": [{"wait": 0, "model": None}]}
        ),  # an attribute that is no counter
        json.dumps({**good, "counters": [{"wait": "0"}]}),
        json.dumps({**good, "epochs_done": 2}),  # more epochs than its history and files
        json.dumps({**good, "history": "x"}),
        json.dumps({**good, "best": {"value": "high", "epoch": 1}}),
        json.dumps({**good, "random_states": [[1]]}),  # a seed state is two integers
        json.dumps({**good, "random_states": [["1", 2]]}),
        json.dumps({**good, "counters": [{"fired_after": "yes"}]}),
        json.dumps([good]),
    ]
    for n, text in enumerate(hostile):
        (checkpoint / "state.json").write_text(text)
        with pytest.raises(
            InputError, match="not a training checkpoint written by alexnet-kfp train"
        ):
            train(tiny_dataset, tmp_path / f"c{n}", config, checkpoint_dir=checkpoint)
    (checkpoint / "state.json").write_text(json.dumps({**good, "random_states": []}))
    with pytest.raises(InputError, match="its random states do not fit this network"):
        train(tiny_dataset, tmp_path / "r", config, checkpoint_dir=checkpoint)
    (checkpoint / "state.json").write_text(json.dumps(good))
    weights = checkpoint / good["weights"]
    weights.write_bytes(weights.read_bytes()[:1000])  # a disk that filled up
    with pytest.raises(InputError, match="epoch 1's weights are missing or damaged"):
        train(tiny_dataset, tmp_path / "d", config, checkpoint_dir=checkpoint)
    weights.unlink()
    with pytest.raises(InputError, match="epoch 1's weights are missing or damaged"):
        train(tiny_dataset, tmp_path / "e", config, checkpoint_dir=checkpoint)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a",
        "checkpoint",
    ]  # no model from any of them
