"""The steps' progress events (alexnet_kfp.progress) as `alexnet-kfp run` reads them
(pipeline/run_events.py): written by a real step process, followed while it runs."""

import io
import json
import subprocess
import sys

import pytest

from alexnet_kfp.pipeline.run_events import StepEvents
from alexnet_kfp.progress import EVENTS

pytestmark = pytest.mark.unit

# A step as a component runs it: setup names it, it tells, logs a SHOWN line and a plain one, its
# tracker warns and says what it did not log, and it finishes with its outputs.
STEP = """
import logging
from alexnet_kfp.process import setup
from alexnet_kfp.progress import SHOWN, finished, tell
setup("train")
log = logging.getLogger("alexnet_kfp.train.fit")
tell("train", "train: no checkpoint: a read-only volume")
log.info("epoch 1/2: loss 2.3", extra=SHOWN)
log.info("a detail only the log holds")
from alexnet_kfp.tracking import Tracker
Tracker("train", "file:/nowhere").start().finish()  # a tracker that logs nothing, and says so
finished("train", model="/runs/x/train-op/model")
"""


def test_a_steps_events_are_shown_and_its_outputs_kept(tmp_path):
    shown = io.StringIO()
    with StepEvents(tmp_path / "events.jsonl", shown) as steps:
        env = {EVENTS: str(steps.path)}
        done = subprocess.run([sys.executable, "-c", STEP], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert shown.getvalue().splitlines() == [
        "train: running",
        "  train: no checkpoint: a read-only volume",
        "  epoch 1/2: loss 2.3",
        "  mlflow: train: MLFLOW_TRACKING_URI 'file:/nowhere': MLflow 3 keeps no runs in a folder "
        "(its file store is retired); give a tracking server's URL (e.g. http://127.0.0.1:5000) "
        "or a database, e.g. sqlite:///mlflow.db; nothing is logged",
        "  mlflow: train: not logged: everything",
        "train: done",
    ]
    assert steps.not_logged == ["train: everything"]  # for the run's summary
    assert steps.output("train", "model") is not None
    assert str(steps.output("train", "model")) == "/runs/x/train-op/model"
    assert steps.output("export", "onnx_model") is None
    # the step's own log still says everything, events or not
    assert "a detail only the log holds" in done.stderr and "train: no checkpoint" in done.stdout


def test_a_step_that_ends_otherwise_than_done_says_how_on_its_last_line(tmp_path):
    # a sweep's trial that failed finishes (its failure is its result) and says so, once
    script = (
        "from alexnet_kfp.progress import finished, started\n"
        "started('trial 2')\n"
        "finished('trial 2', 'failed: training diverged', model='/runs/x/trial-op/model')\n"
    )
    shown = io.StringIO()
    with StepEvents(tmp_path / "events.jsonl", shown) as steps:
        env = {EVENTS: str(steps.path)}
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
        assert done.returncode == 0, done.stderr
    assert shown.getvalue().splitlines() == [
        "trial 2: running",
        "trial 2: failed: training diverged",
    ]
    assert str(steps.output("trial 2", "model")) == "/runs/x/trial-op/model"


def test_without_the_variable_a_step_writes_no_events(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", STEP], cwd=tmp_path, env={}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_lines_that_are_not_events_are_passed_over_and_a_line_cut_short_waits(tmp_path):
    path, shown = tmp_path / "events.jsonl", io.StringIO()
    with StepEvents(path, shown, quiet=True) as steps:
        with path.open("a") as events:
            events.write("not json\n")
            events.write(json.dumps({"kind": "finished"}) + "\n")  # no step
            events.write(
                json.dumps({"step": "data", "kind": "finished", "outputs": {"dataset": "/d"}})
            )
    # the last line never got its newline: a step still writing it, not an event yet
    assert steps.outputs == {} and shown.getvalue() == ""
