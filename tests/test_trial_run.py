"""One trial of a sweep, trained for real on a tiny Dataset: it reads no test split, a diverged loss
is its result rather than a failure, and the attempt past its retries reports it lost; the train
step itself stops at the first loss that is not a number."""

import json
import shutil
from pathlib import Path

import pytest

from alexnet_kfp.pipeline.grid import trial_defaults
from alexnet_kfp.records import FAILED, LOST, TRAINED, TrainRecord, TrialRecord
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
