"""From a finished run to production, against a real MLflow server: `alexnet-kfp register RUN_DIR`
registers a run made without a tracker (its gate and verify checked again), and `alexnet-kfp
promote` moves an alias only by the rule (passed, verified, not a trial, no regression), or with
--force, said and recorded."""

import os
import shutil
from pathlib import Path

import pytest

from alexnet_kfp.tracking.registry import register

from .cli import run_cli
from .mlflow_server import MlflowServer

pytestmark = pytest.mark.integration

DECIDED = {"gate_decision": "passed", "verified": "true", "trial": "false"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = MlflowServer(tmp_path_factory.mktemp("promotion")).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def run_dir(trained, evaluation, exported, small_dataset, tmp_path_factory) -> Path:
    """A finished run as `alexnet-kfp run` leaves it: its steps' folders and the links to them."""
    from alexnet_kfp.export.parity import verify

    run = tmp_path_factory.mktemp("runs") / "20261206T000000Z"
    steps = run / "steps"
    shutil.copytree(evaluation[0], steps / "evaluate" / "evaluation")
    shutil.copytree(exported, steps / "export" / "onnx_model")
    verify(small_dataset, trained[0], steps / "export" / "onnx_model", out_dir=steps / "verify")
    (run / "onnx_model").symlink_to(steps / "export" / "onnx_model", target_is_directory=True)
    (run / "dataset").symlink_to(small_dataset, target_is_directory=True)
    return run


def _cli(server: MlflowServer, *args: object):
    return run_cli(*args, env={**os.environ, "MLFLOW_TRACKING_URI": server.uri}, timeout=300)


def _version(server, exported, monkeypatch, name: str, alias: str, **tags: str) -> int:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
    all_tags = {**DECIDED, "onnx_sha256": "0" * 64, **tags}
    registered = register(exported, name, alias, all_tags)
    assert registered
    return registered.version


def test_register_takes_a_finished_run_made_without_a_tracker(server, run_dir):
    done = _cli(server, "register", run_dir, "--name", "from-a-run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "registered models:/from-a-run/1 (alias candidate)",
        "next: alexnet-kfp promote from-a-run --from candidate",
    ]
    from mlflow import MlflowClient

    tags = MlflowClient(server.uri).get_model_version("from-a-run", "1").tags
    assert tags["gate_decision"] == "passed" and tags["verified"] == "true"
    assert tags["trial"] == "false" and float(tags["test_accuracy"]) > 0


def test_register_refuses_a_run_whose_model_changed_after_verify(server, run_dir, tmp_path):
    changed = tmp_path / "run"
    shutil.copytree(run_dir, changed, symlinks=False)
    (changed / "onnx_model" / "model.onnx").write_bytes(b"not the verified model")
    done = _cli(server, "register", changed, "--name", "changed")
    assert done.returncode == 2 and "not the model the run's verify step verified" in done.stderr
    gone = _cli(server, "register", tmp_path / "nowhere", "--name", "x")
    assert gone.returncode == 2 and "no such run directory" in gone.stderr


def test_promote_moves_the_alias_by_the_rule(server, exported, monkeypatch):
    first = _version(server, exported, monkeypatch, "ruled", "candidate", test_accuracy="0.70")
    done = _cli(server, "promote", "ruled")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        f"promoted models:/ruled/{first} (candidate) to production, which named no version: "
        "test accuracy 0.70"
    )
    better = _version(server, exported, monkeypatch, "ruled", "candidate", test_accuracy="0.75")
    done = _cli(server, "promote", "ruled", "--from", "candidate", "--to", "production")
    assert done.returncode == 0, done.stderr
    assert f"which named models:/ruled/{first}: test accuracy 0.75 (was 0.70)" in done.stdout
    again = _cli(server, "promote", "ruled")
    assert (
        again.stdout.strip()
        == f"ruled@production is models:/ruled/{better} already: nothing to move"
    )


@pytest.mark.parametrize(
    "tags, says",
    [
        ({"test_accuracy": "0.60"}, "is below version"),
        ({"test_accuracy": "0.90", "trial": "true"}, "it is a trial model"),
        ({"test_accuracy": "0.90", "verified": "false"}, "no verified ONNX model"),
        ({"test_accuracy": "0.90", "gate_decision": ""}, "no passed gate"),
        ({"test_accuracy": "nan?"}, "it records no test_accuracy"),
    ],
)
def test_promote_refuses_what_breaks_the_rule_unless_forced(
    server, exported, monkeypatch, tags, says
):
    name = f"refused-{len(says)}"
    _version(server, exported, monkeypatch, name, "production", test_accuracy="0.80")
    candidate = _version(server, exported, monkeypatch, name, "candidate", **tags)
    refused = _cli(server, "promote", name)
    assert refused.returncode == 2 and says in refused.stderr and "--force" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    forced = _cli(server, "promote", name, "--force")
    assert forced.returncode == 0 and says in forced.stdout, forced.stderr
    from mlflow import MlflowClient

    client = MlflowClient(server.uri)
    assert client.get_model_version_by_alias(name, "production").version == str(candidate)
    assert says in client.get_model_version(name, str(candidate)).tags["promoted_by_force"]


def test_promote_says_in_one_line_what_is_missing(server, tmp_path):
    for args, says in (
        (["promote", "no-such-model"], "no-such-model"),
        (["promote", "ruled", "--from", "nightly"], "has no version with the alias 'nightly'"),
        (["promote", "ruled", "--from", "x", "--to", "x"], "nothing to move"),
        (["promote", "a/b"], "NAME 'a/b'"),
    ):
        done = _cli(server, *args)
        assert done.returncode == 2 and says in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    down = run_cli(
        "promote", "ruled", env={**os.environ, "MLFLOW_TRACKING_URI": "http://127.0.0.1:9",
                                 "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"},
    )  # fmt: skip
    assert down.returncode == 2 and "cannot reach the MLflow tracking server" in down.stderr
