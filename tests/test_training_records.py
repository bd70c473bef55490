"""What training leaves and reads back, damaged or mismatched: a checkpoint is tied to the training
images themselves (with or without dataset.json), a Dataset changed after the data step is
refused, and a checkpoint's or a model's history that is cut short or lacks its fields is one line,
never a KeyError."""

import json
import shutil

import pytest

from alexnet_kfp.data.prepare import prepare_dataset
from alexnet_kfp.files import file_digest

from .cli import run_cli

pytestmark = pytest.mark.integration

TRAIN = ("--epochs", 1, "--variant", "article")


@pytest.fixture(scope="module")
def two_datasets(small_archive, small_sha256, tmp_path_factory):
    """Two Datasets of other training images (other split seeds), neither with dataset.json."""
    folder = tmp_path_factory.mktemp("two")
    made = []
    for seed in (1, 2):
        out = folder / f"seed-{seed}"
        prepare_dataset(
            out, source=str(small_archive), sha256=small_sha256, limit_per_class=20, seed=seed
        )
        (out / "dataset.json").unlink()  # a Dataset made by hand, or by an older tool
        made.append(out)
    return made


def _last_line(result) -> str:
    assert result.returncode == 2, result.stderr[-2000:]
    return result.stderr.strip().splitlines()[-1]


def test_a_checkpoint_resumed_on_other_training_images_is_refused(two_datasets, tmp_path):
    first, other = two_datasets
    checkpoint = tmp_path / "checkpoint"
    made = run_cli("train", "--data", first, "--out", tmp_path / "a", *TRAIN,
                   "--checkpoint-dir", checkpoint, timeout=600)  # fmt: skip
    assert made.returncode == 0, made.stderr[-2000:]
    resumed = run_cli("train", "--data", other, "--out", tmp_path / "b", "--epochs", 2,
                      "--variant", "article", "--checkpoint-dir", checkpoint,
                      timeout=600)  # fmt: skip
    line = _last_line(resumed)
    assert f"checkpoint {checkpoint} was made by other parameters or data" in line, line
    images = (file_digest(first / "train.npz"), file_digest(other / "train.npz"))
    assert f"{images[0]} -> {images[1]}" in line and not (tmp_path / "b").exists()


def test_a_dataset_changed_after_the_data_step_is_refused(tiny_dataset, two_datasets, tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(tiny_dataset, changed)
    shutil.copyfile(two_datasets[0] / "train.npz", changed / "train.npz")
    line = _last_line(run_cli("train", "--data", changed, "--out", tmp_path / "m", *TRAIN))
    assert "train.npz is not the file its dataset.json records" in line, line


@pytest.mark.parametrize(
    "damage, says",
    [
        (lambda h: [{k: v for k, v in e.items() if k != "lr"} for e in h], "has no 'lr'"),
        (lambda h: [{**e, "val_accuracy": "high"} for e in h], "val_accuracy is not a number"),
        (lambda h: [{**e, "epoch": 7} for e in h], "is numbered 7, not 1"),
        (lambda h: [], "expected a non-empty list"),
        (lambda h: {"epochs": h}, "expected a non-empty list"),
    ],
)
def test_a_models_damaged_history_is_one_line(trained, tiny_dataset, tmp_path, damage, says):
    model = tmp_path / "model"
    shutil.copytree(trained[0], model)
    history = json.loads((model / "history.json").read_text())
    (model / "history.json").write_text(json.dumps(damage(history)))
    result = run_cli("evaluate", "--data", tiny_dataset, "--model", model, "--out", tmp_path / "e")
    line = _last_line(result)
    assert f"{model / 'history.json'}: not a training history (" in line and says in line, line
    assert not (tmp_path / "e").exists()


def test_a_history_cut_short_is_one_line(trained, tiny_dataset, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(trained[0], model)
    text = (model / "history.json").read_text()
    (model / "history.json").write_text(text[: len(text) // 2])
    result = run_cli("evaluate", "--data", tiny_dataset, "--model", model, "--out", tmp_path / "e")
    assert f"{model / 'history.json'}: not a JSON file" in _last_line(result)


def test_a_checkpoint_whose_history_lacks_its_fields_is_one_line(tiny_dataset, tmp_path):
    checkpoint = tmp_path / "checkpoint"
    made = run_cli("train", "--data", tiny_dataset, "--out", tmp_path / "a", *TRAIN,
                   "--checkpoint-dir", checkpoint, timeout=600)  # fmt: skip
    assert made.returncode == 0, made.stderr[-2000:]
    state = json.loads((checkpoint / "state.json").read_text())
    state["history"] = [{"epoch": 1}]  # the count is right, the fields are not
    (checkpoint / "state.json").write_text(json.dumps(state))
    resumed = run_cli("train", "--data", tiny_dataset, "--out", tmp_path / "b", "--epochs", 2,
                      "--variant", "article", "--checkpoint-dir", checkpoint,
                      timeout=600)  # fmt: skip
    line = _last_line(resumed)
    assert line.endswith("state.json: not a training checkpoint written by alexnet-kfp train"), line
