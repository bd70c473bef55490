"""A full disk leaves the previous file intact and says so in one line: the compiled pipeline and
the JSON records are written to a temporary sibling, then renamed; a trained model that does not
fit is kept elsewhere, and the line says where. The disk is a real 32 KiB tmpfs
(mounting it needs root, as CI has; elsewhere the tests are skipped)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from alexnet_kfp.errors import InputError
from alexnet_kfp.files import write_atomically

from .cli import run_cli


@pytest.fixture
def full_disk(tmp_path):
    """A 32 KiB file system holding one 'previous' file."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a tmpfs of its own needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(disk)])
    if mounted.returncode:
        pytest.skip("this machine cannot mount a tmpfs here")
    (disk / "pipeline.yaml").write_text("the previous pipeline\n")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


@pytest.mark.unit
def test_compile_onto_a_full_disk_keeps_the_previous_pipeline(full_disk):
    result = run_cli("compile", "--output", full_disk / "pipeline.yaml", timeout=300)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "No space left on device" in lines[0] and "the previous file is intact" in lines[0]
    assert (full_disk / "pipeline.yaml").read_text() == "the previous pipeline\n"
    assert sorted(p.name for p in full_disk.iterdir()) == ["pipeline.yaml"]  # no partial file


@pytest.mark.unit
def test_a_record_that_does_not_fit_leaves_nothing(full_disk):
    with pytest.raises(InputError, match="nothing was written"):
        write_atomically(full_disk / "summary.json", "x" * 100_000)
    assert sorted(p.name for p in full_disk.iterdir()) == ["pipeline.yaml"]
    write_atomically(full_disk / "summary.json", "{}\n")  # what fits is written whole
    assert (full_disk / "summary.json").read_text() == "{}\n"


@pytest.mark.integration
def test_a_trained_model_that_does_not_fit_is_kept_elsewhere(full_disk, tiny_dataset, tmp_path):
    # without a checkpoint: written under the system's temporary directory, and said where
    train = [
        "train",
        "--variant",
        "article",
        "--data",
        tiny_dataset,
        "--epochs",
        "1",
        "--precision",
        "float32",
    ]
    result = run_cli(*train, "--out", full_disk / "model", timeout=600)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and "No space left on device" in lines[-1], result.stderr
    rescued = Path(lines[-1].rsplit("it was written to ", 1)[1])
    try:
        assert json.loads((rescued / "train.json").read_text())["epochs_run"] == 1
        assert (rescued / "model.keras").is_file() and (rescued / "history.json").is_file()
    finally:
        shutil.rmtree(rescued)
    assert sorted(p.name for p in full_disk.iterdir()) == ["pipeline.yaml"]  # no partial model
    # with a checkpoint: named, with the command that writes the model without training
    checkpoint = tmp_path / "ckpt"
    kept = run_cli(*train, "--out", full_disk / "m", "--checkpoint-dir", checkpoint, timeout=600)
    assert kept.returncode == 2 and f"trained state is kept in {checkpoint}" in kept.stderr
    assert "--epochs 1 to write it without training" in kept.stderr
    again = run_cli(*train, "--out", tmp_path / "m", "--checkpoint-dir", checkpoint, timeout=600)
    assert again.returncode == 0 and (tmp_path / "m" / "model.keras").is_file(), again.stderr


@pytest.mark.integration
@pytest.mark.parametrize("step", ["export", "evaluate", "data", "model-repository"])
def test_every_step_onto_a_full_disk_says_so_and_leaves_nothing(
    full_disk, step, trained, exported, small_archive, small_dataset
):
    # onnxruntime hides the errno of the optimized model it writes (INVALID_PROTOBUF
    # "serialization failed"): a failed write with the disk full is named as such all the same
    model = trained[0]
    commands = {
        "export": ["export", "--model", model, "--data", small_dataset],
        "evaluate": ["evaluate", "--model", model, "--data", small_dataset],
        "data": ["data", "--source", small_archive],
        "model-repository": ["model-repository", "--onnx", exported],
    }
    result = run_cli(*commands[step], "--out", full_disk / "out", timeout=900)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr[-2000:]
    assert lines[-1].startswith(f"alexnet-kfp {step}: error: "), lines[-1]
    assert "No space left on device" in lines[-1] or "no space left" in lines[-1], lines[-1]
    assert sorted(p.name for p in full_disk.iterdir()) == ["pipeline.yaml"]


@pytest.mark.integration
def test_a_full_checkpoint_volume_costs_the_checkpoints_not_the_training(
    full_disk, tiny_dataset, tmp_path
):
    # h5py crashed the process (SIGSEGV) filling the disk, leaving half a weights file: a state
    # that cannot fit is not started, and training goes on to write its model
    checkpoint = full_disk / "checkpoint"
    result = run_cli(
        "train", "--data", tiny_dataset, "--out", tmp_path / "model", "--epochs", 2,
        "--variant", "article", "--checkpoint-dir", checkpoint, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    warned = [line for line in result.stderr.splitlines() if "no room for" in line]
    assert warned == [
        f"checkpoint {checkpoint}: no room for epoch 1's state ("
        + warned[0].split("state (", 1)[1].split(")")[0]
        + "); training goes on without checkpoints"
    ], result.stderr
    assert (tmp_path / "model" / "model.keras").is_file()
    assert sorted(p.name for p in checkpoint.iterdir()) == ["lock"]  # nothing half-written
    assert json.loads((tmp_path / "model" / "train.json").read_text())["epochs_run"] == 2
