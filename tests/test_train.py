"""Training on the real small archive: it learns, decays the learning rate on a plateau, keeps
augmentation off the evaluation path, writes complete records, and repeats itself exactly."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from alexnet_kfp.data.npz import load_npz
from alexnet_kfp.errors import InputError
from alexnet_kfp.train.config import TrainConfig
from alexnet_kfp.train.fit import train
from alexnet_kfp.train.input import evaluation_dataset

from .cli import run_cli, run_train

EPOCH_KEYS = {
    "epoch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "lr",
    "seconds",
    "images_per_second",
}


def _accuracy(model_dir: Path, split: Path) -> float:
    """The saved model's accuracy on a split's .npz."""
    model = keras.models.load_model(model_dir / "model.keras")
    images = load_npz(split)
    predictions = model.predict(images["x"], batch_size=200, verbose=0).argmax(axis=1)
    return float((predictions == images["y"]).mean())


@pytest.mark.integration
def test_short_real_training_beats_chance_on_the_test_split(trained, small_dataset):
    accuracy = _accuracy(trained[0], small_dataset / "test.npz")
    assert accuracy >= 0.25, f"test accuracy {accuracy:.3f} after 6 epochs (chance is 0.10)"


@pytest.mark.integration
def test_history_and_train_records_are_complete(small_sha256, trained):
    model_dir, record = trained
    history = json.loads((model_dir / "history.json").read_text())
    assert [e["epoch"] for e in history] == list(range(1, 7))
    assert all(set(e) == EPOCH_KEYS for e in history)
    assert all(e["seconds"] > 0 and 0 <= e["val_accuracy"] <= 1 for e in history)
    saved = json.loads((model_dir / "train.json").read_text())
    assert saved == record
    assert saved["parameters"]["seed"] == 42 and saved["parameters"]["variant"] == "article"
    assert (
        saved["precision"] in ("float32", "mixed_bfloat16")
        and saved["saved_model_precision"] == "float32"
    )
    assert saved["best_val_accuracy"] == max(e["val_accuracy"] for e in history)
    assert history[saved["best_epoch"] - 1]["val_accuracy"] == saved["best_val_accuracy"]
    assert {"tensorflow", "keras", "numpy", "python", "alexnet-kfp"} <= set(saved["versions"])
    assert saved["dataset"]["source_sha256"] == small_sha256 and saved["images_per_second"] > 0
    assert sorted(p.name for p in model_dir.iterdir()) == [
        "history.json",
        "model.keras",
        "tensorboard",
        "train.json",
    ]
    # the plateau may or may not have fired in 6 epochs; the final decay (after epoch 5) did if not
    decays = saved["learning_rate_decays"]
    assert decays and all(d["rule"] in ("plateau", "final") for d in decays)
    assert decays[-1]["after_epoch"] <= 6 - 1 and saved["xla"] is False


@pytest.mark.integration
def test_best_epoch_weights_are_the_ones_saved(trained, small_dataset):
    model_dir, record = trained
    accuracy = _accuracy(model_dir, small_dataset / "val.npz")
    # bf16 training, fp32 saved copy
    assert accuracy == pytest.approx(record["best_val_accuracy"], abs=0.02)


@pytest.mark.integration
def test_plateau_lowers_the_learning_rate(tiny_dataset, tmp_path):
    # min_delta = 1 forces a plateau: no epoch can beat the best by a whole unit of accuracy.
    config = TrainConfig(
        variant="article",
        epochs=4,
        plateau_patience=1,
        plateau_factor=0.5,
        plateau_min_delta=1.0,
        learning_rate=1e-3,
    )
    train(tiny_dataset, tmp_path / "model", config)
    rates = [e["lr"] for e in json.loads((tmp_path / "model" / "history.json").read_text())]
    assert rates == pytest.approx([1e-3, 1e-3, 5e-4, 2.5e-4])


@pytest.mark.integration
def test_same_seed_same_history(tiny_dataset, tmp_path):
    histories = []
    for name in ("a", "b"):
        train(
            tiny_dataset,
            tmp_path / name,
            TrainConfig(variant="article", epochs=2, precision="float32"),
        )
        history = json.loads((tmp_path / name / "history.json").read_text())
        histories.append(
            [
                {k: v for k, v in e.items() if k not in ("seconds", "images_per_second")}
                for e in history
            ]
        )
    assert histories[0] == histories[1]


@pytest.mark.integration
def test_evaluation_path_is_never_augmented(tiny_dataset):
    val = load_npz(tiny_dataset / "val.npz")
    batches = list(evaluation_dataset(val["x"], val["y"], 32).as_numpy_iterator())
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), val["x"])
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), val["y"])


@pytest.mark.unit
def test_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="made by the data step"):
        train(tmp_path / "nothing", tmp_path / "model", TrainConfig(variant="article", epochs=1))
    assert not (tmp_path / "model").exists()


@pytest.mark.integration  # a train or evaluate process: TensorFlow's start-up
def test_cli_train_bad_input_exits_2(tmp_path):
    result = run_cli(
        "train",
        "--variant",
        "article",
        "--data",
        tmp_path / "none",
        "--out",
        tmp_path / "m",
        "--epochs",
        "1",
        timeout=300,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("alexnet-kfp train: error:")


@pytest.mark.integration
def test_require_gpu_refuses_to_train_on_the_cpu(tiny_dataset, tmp_path):
    result = run_train(tiny_dataset, tmp_path / "model", "--require-gpu", timeout=300)
    assert result.returncode == 2, result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("alexnet-kfp train: error: no GPU visible in the train pod")
    )
    assert not (tmp_path / "model").exists()
