"""One trial of a sweep, trained for real on a tiny Dataset: it reads no test split, a diverged loss
is its result rather than a failure, and the attempt past its retries reports it lost; the train
step itself stops at the first loss that is not a number."""

import json
import shutil
from pathlib import Path

import pytest

from alexnet_kfp.pipeline.grid import trial_defaults
from alexnet_kfp.records import FAILED, LOST, TRAINED, TrainRecord, TrialRecord
from alexnet_kfp.train.halving import Halving
from alexnet_kfp.train.trial import ATTEMPTS, run_trial
from alexnet_kfp.train.trials import plan_trials

from .cli import run_cli

pytestmark = pytest.mark.integration

QUICK = {"variant": "article", "epochs": 2, "require_gpu": False, "crop_padding": 0}


def _planned(**settings) -> dict:
    """A planned trial as the trial step receives it: through KFP's JSON, numbers as doubles."""
    (trial,) = plan_trials([{**QUICK, **settings}], trial_defaults())
    return json.loads(json.dumps(trial), parse_int=float)


def test_a_trial_trains_on_train_and_validation_alone(tiny_dataset, tmp_path):
    dataset = tmp_path / "dataset"
    shutil.copytree(tiny_dataset, dataset)
    (dataset / "test.npz").unlink()  # a trial that read the test split would fail here
    workspace = tmp_path / "workspace"
    record = run_trial(dataset, tmp_path / "model", _planned(), workspace, training_attempts=4)
    assert record.status == TRAINED and record.reason == "" and record.attempts == 1
    trained = TrainRecord.read(tmp_path / "model")
    assert record.best_val_accuracy == trained.best_val_accuracy
    assert (record.best_epoch, record.epochs_run) == (trained.best_epoch, 2)
    assert record.decayed_after == [d.after_epoch for d in trained.learning_rate_decays]
    assert trained.parameters["epochs"] == 2 and isinstance(trained.parameters["epochs"], int)
    assert TrialRecord.read(tmp_path / "model") == record
    # its checkpoint is gone once it is done; its attempt count stays
    assert not (workspace / "trial-0" / "checkpoint").exists()
    assert (workspace / "trial-0" / ATTEMPTS).read_text() == "1\n"


def test_a_diverged_trial_is_a_result_not_a_failure(tiny_dataset, tmp_path):
    record = run_trial(
        tiny_dataset, tmp_path / "model", _planned(learning_rate=1e30), None, training_attempts=4
    )
    assert record.status == FAILED
    assert record.reason.startswith("training diverged: the loss was not a number at epoch 1")
    assert record.best_val_accuracy is None
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["trial.json"]


def test_the_attempt_past_the_retries_reports_the_trial_lost_without_training(
    tiny_dataset, tmp_path
):
    folder = tmp_path / "workspace" / "trial-0"
    folder.mkdir(parents=True)
    (folder / ATTEMPTS).write_text("4\n")  # four pods ended without a result
    record = run_trial(
        tiny_dataset, tmp_path / "model", _planned(), tmp_path / "workspace", training_attempts=4
    )
    assert (record.status, record.attempts) == (LOST, 5)
    assert record.reason.startswith("its pod ended without a result 4 times")
    assert not (tmp_path / "model" / "model.keras").exists()


def test_train_stops_at_a_loss_that_is_not_a_number(tiny_dataset, tmp_path):
    checkpoint = tmp_path / "checkpoint"
    result = run_cli(
        "train", "--data", tiny_dataset, "--out", tmp_path / "model", "--epochs", 3,
        "--variant", "article", "--learning-rate", "1e30", "--checkpoint-dir", checkpoint,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "alexnet-kfp train: error: training diverged: the loss was not a number at epoch 1, batch "
    )
    assert last.endswith("(learning_rate 1e+30); a lower learning rate trains")
    assert "epoch 2/3" not in result.stderr  # it stopped, not trained on NaN
    assert not (tmp_path / "model").exists()
    assert not list(checkpoint.glob("state*"))  # no NaN state to resume from
    assert Path(checkpoint).is_dir()


def test_a_model_that_learned_nan_is_never_judged_exported_or_verified(tiny_dataset, tmp_path):
    import keras
    import numpy as np

    from alexnet_kfp.errors import InputError
    from alexnet_kfp.inference.probabilities import finite
    from alexnet_kfp.train.alexnet import build_alexnet

    model = build_alexnet("article", num_classes=10)
    weights = model.get_weights()
    weights[0][0, 0, 0, 0] = np.nan  # one weight is enough to make every output NaN
    model.set_weights(weights)
    (tmp_path / "model").mkdir()
    keras.models.save_model(model, tmp_path / "model" / "model.keras")
    said = "the model's weights hold NaN or infinity"
    for step, *flags in (
        ("evaluate", "--data", tiny_dataset, "--out", tmp_path / "evaluation"),
        ("export", "--out", tmp_path / "onnx"),
    ):
        result = run_cli(step, "--model", tmp_path / "model", *flags, timeout=300)
        assert result.returncode == 2, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(f"alexnet-kfp {step}: error: ") and said in line, line
    assert not (tmp_path / "evaluation").exists() and not (tmp_path / "onnx").exists()
    # outputs that overflow to NaN or infinity are refused as well (verify's and evaluate's path)
    outputs = np.full((4, 10), 0.1, np.float32)
    outputs[2, 3] = np.inf
    with pytest.raises(InputError, match=r"m.onnx: the model's outputs are not numbers for 1 of 4"):
        finite(Path("m.onnx"), outputs)
    assert finite(Path("m.onnx"), outputs[:2]) is not None


def test_a_halving_trial_goes_on_from_its_checkpoint_as_if_never_stopped(tiny_dataset, tmp_path):
    # 4 epochs halved once by 2: rung 1 ends at epoch 2, rung 2 at 4. The final decay (the last
    # quarter) fires after epoch 3 of the full budget, inside rung 2: had rung 1 trained a budget
    # of its own 2 epochs, it would have decayed after epoch 1.
    schedule = {"epochs": 4, "final_decay_fraction": 0.25, "plateau_patience": 100}
    halving = Halving(2, 2).check()
    workspace, planned = tmp_path / "workspace", _planned(**schedule)
    first = run_trial(tiny_dataset, tmp_path / "rung-1", planned, workspace, 4, halving, 0)
    folder = workspace / "trial-0"
    assert (first.status, first.rung, first.epochs_run) == (TRAINED, 1, 2)
    assert first.decayed_after == []
    assert (folder / "checkpoint" / "state.json").is_file()  # kept for the next rung
    second = run_trial(tiny_dataset, tmp_path / "rung-2", planned, workspace, 4, halving, 1)
    whole = run_trial(tiny_dataset, tmp_path / "whole", planned, tmp_path / "other", 4)
    assert (second.rung, second.epochs_run, second.decayed_after) == (2, 4, [3])
    assert second.decayed_after == whole.decayed_after
    rungs = json.loads((tmp_path / "rung-2" / "history.json").read_text())
    uninterrupted = json.loads((tmp_path / "whole" / "history.json").read_text())
    timing = ("seconds", "images_per_second")
    assert [{k: v for k, v in e.items() if k not in timing} for e in rungs] == [
        {k: v for k, v in e.items() if k not in timing} for e in uninterrupted
    ]
    assert TrainRecord.read(tmp_path / "rung-2").checkpoint.resumed_after_epoch == 2
    assert second.best_val_accuracy == whole.best_val_accuracy
    # the last rung is the trial's end: its checkpoint goes; each rung counted its own attempts
    assert not (folder / "checkpoint").exists()
    assert (folder / ATTEMPTS).read_text() == (folder / f"{ATTEMPTS}-rung-2").read_text() == "1\n"
