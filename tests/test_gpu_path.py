"""The GPU node's training path, rehearsed on the CPU with the same code: mixed_float16 with loss
scaling, MirroredStrategy over two replicas (two logical CPU devices) with a checkpoint written and
resumed under it, and XLA. A checkpoint directory is locked while a run writes it."""

import fcntl
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from alexnet_kfp.errors import InputError
from alexnet_kfp.export.onnx_export import export
from alexnet_kfp.export.parity import verify
from alexnet_kfp.train.checkpoint import unwritable
from alexnet_kfp.train.config import TrainConfig
from alexnet_kfp.train.fit import train

from .cli import run_cli

# Two logical CPU devices must be made before TensorFlow touches a device: a process of its own.
_MIRRORED = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from alexnet_kfp.train.config import TrainConfig
from alexnet_kfp.train.fit import train
dataset, out, checkpoint, epochs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
assert strategy.num_replicas_in_sync == 2
# no final decay: the first run's shorter budget would place it elsewhere
config = TrainConfig(
    variant="article", epochs=epochs, precision="float32", batch_size=20, final_decay_fraction=0
)
train(dataset, out, config, checkpoint_dir=checkpoint or None, distribution=strategy)
"""


def _mirrored(dataset, out, checkpoint, epochs):
    result = subprocess.run(
        [sys.executable, "-c", _MIRRORED, str(dataset), str(out), str(checkpoint), str(epochs)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.integration
def test_mixed_float16_trains_a_float32_model_that_exports_and_verifies(tiny_dataset, tmp_path):
    record = train(
        tiny_dataset,
        tmp_path / "model",
        TrainConfig(variant="article", epochs=2, precision="mixed_float16"),
    )
    assert record.precision == "mixed_float16"
    assert record.saved_model_precision == "float32"
    model = keras.saving.load_model(tmp_path / "model" / "model.keras")
    assert {w.dtype for w in model.weights} == {"float32"}
    history = json.loads((tmp_path / "model" / "history.json").read_text())
    assert all(0 < e["loss"] < 10 for e in history)  # loss scaling kept the float16 loss finite
    export(tmp_path / "model", tmp_path / "onnx", int8=None)
    parity = verify(
        tiny_dataset, tmp_path / "model", tmp_path / "onnx", out_dir=tmp_path / "parity"
    )
    assert parity.passed


def _state(checkpoint, epoch: int) -> dict:
    """Every array of a checkpoint's training state (the model's and the optimizer's)."""
    arrays: dict = {}
    with h5py.File(checkpoint / f"state-{epoch}.weights.h5") as f:
        f.visititems(lambda name, o: arrays.update({name: o[()]}) if hasattr(o, "shape") else None)
    return arrays


@pytest.mark.integration
def test_two_replicas_train_checkpoint_and_resume_as_one_run(tiny_dataset, tmp_path):
    # one epoch, then the second resumed from its checkpoint, against both in one run
    _mirrored(tiny_dataset, tmp_path / "whole", tmp_path / "whole.ckpt", 2)
    _mirrored(tiny_dataset, tmp_path / "first", tmp_path / "ckpt", 1)
    _mirrored(tiny_dataset, tmp_path / "resumed", tmp_path / "ckpt", 2)
    whole, resumed = _state(tmp_path / "whole.ckpt", 2), _state(tmp_path / "ckpt", 2)
    assert len(whole) > 50 and whole.keys() == resumed.keys()
    assert all(np.array_equal(whole[k], resumed[k]) for k in whole)  # weights and Adam's state
    # validation too: unsynchronized, each replica kept its own BatchNorm statistics, the
    # checkpoint only the first's, and the resumed epoch's val_loss differed
    keys = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")
    trained = [
        [{k: e[k] for k in keys} for e in json.loads(h.read_text())]
        for h in (tmp_path / "whole" / "history.json", tmp_path / "resumed" / "history.json")
    ]
    assert trained[0] == trained[1]
    assert json.loads((tmp_path / "resumed" / "train.json").read_text())["replicas"] == 2
    # the saved model is the plain inference network (BatchNorm synchronized only while training):
    # it loads, exports and verifies on one device, as the export pod does
    with zipfile.ZipFile(tmp_path / "resumed" / "model.keras") as saved:
        assert '"synchronized": true' not in saved.read("config.json").decode()
    export(tmp_path / "resumed", tmp_path / "onnx", int8=None)
    parity = verify(
        tiny_dataset, tmp_path / "resumed", tmp_path / "onnx", out_dir=tmp_path / "parity"
    )
    assert parity.passed


@pytest.mark.integration
def test_xla_compiles_the_training_step(tiny_dataset, tmp_path):
    # a process of its own: op determinism, once on in a process (other tests), stays on
    flags = ["--epochs", "1", "--precision", "float32", "--jit-compile", "--no-deterministic"]
    done = run_cli(
        "train", "--variant", "article", "--data", tiny_dataset, "--out", tmp_path / "model", *flags
    )
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads((tmp_path / "model" / "train.json").read_text())
    assert record["xla"] and 0 < record["best_val_accuracy"] <= 1
    # Keras drops XLA without a word when op determinism is on: refused instead
    with pytest.raises(InputError, match="jit_compile needs deterministic off"):
        train(
            tiny_dataset,
            tmp_path / "again",
            TrainConfig(variant="article", epochs=1, jit_compile=True),
        )


@pytest.mark.integration
def test_a_checkpoint_being_written_is_refused_in_one_line(tiny_dataset, tmp_path):
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    with open(checkpoint / "lock", "a") as other_run:
        fcntl.flock(other_run, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(
            InputError, match=f"checkpoint {checkpoint} is being written by another"
        ):
            _one_epoch(tiny_dataset, tmp_path / "model", checkpoint)
    assert not (tmp_path / "model").exists()


@pytest.mark.unit
def test_the_train_component_can_tell_a_volume_it_cannot_write(tmp_path):
    # components/train.py trains without a checkpoint then (a workspace without fsGroup)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert "cannot write" in (unwritable(blocker) or "")
    assert "cannot write" in (unwritable(blocker / "ckpt") or "")
    assert unwritable(tmp_path / "new" / "ckpt") is None and (tmp_path / "new" / "ckpt").is_dir()


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["a file", "inside a file"])
def test_a_path_that_cannot_be_a_checkpoint_is_refused_before_training(
    tiny_dataset, tmp_path, kind
):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    checkpoint = blocker if kind == "a file" else blocker / "ckpt"
    with pytest.raises(InputError, match="cannot write there"):
        _one_epoch(tiny_dataset, tmp_path / "model", checkpoint)
    assert not (tmp_path / "model").exists()


def _one_epoch(dataset: Path, out: Path, checkpoint: Path) -> None:
    train(dataset, out, TrainConfig(variant="article", epochs=1), checkpoint_dir=checkpoint)
