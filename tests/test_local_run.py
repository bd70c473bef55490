"""The whole pipeline under kfp.local on the small real archive: the export branch leaves a verified
ONNX model; an impossible gate takes the Else branch and fails with the gate's reason."""

import json
from dataclasses import asdict
from pathlib import Path

import onnx
import pytest

from alexnet_kfp.pipeline.local_run import run_locally
from alexnet_kfp.pipeline.profiles import LOCAL, QUICK

from .cli import run_cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def source(small_archive, small_sha256) -> dict:
    """The pipeline parameters that name the small archive."""
    return {"source": str(small_archive), "sha256": small_sha256, "md5": ""}


def test_local_run_takes_the_export_branch_and_verifies_the_onnx_model(source, tmp_path, capfd):
    summary = run_locally({**QUICK.values, **source}, tmp_path / "runs")
    # quiet by default: each task, the epochs and the gate; kfp.local's dumps only in run.log
    shown = capfd.readouterr()
    lines = shown.out.splitlines()
    assert "train: running" in lines and "train: done" in lines and "verify: done" in lines
    assert sum(line.startswith("  epoch ") for line in lines) == QUICK.values["epochs"]
    assert len(lines) < 30 and not shown.err, shown
    assert "executor_input" in (Path(summary.run_dir) / "run.log").read_text()
    assert summary.gate.passed and summary.accuracy >= QUICK.values["min_accuracy"]
    assert summary.parity.passed and summary.parity.images == 1000
    assert Path(summary.onnx_model).is_file() and Path(summary.report).is_file()
    parity = json.loads(next(Path(summary.run_dir).rglob("parity.json")).read_text())
    assert parity["max_abs_diff"] <= 1e-4 and parity["argmax_agreement"] == 1.0
    # the int8 model travels in the same ONNX artifact and was judged against int8_max_loss
    int8 = Path(summary.int8_model)
    assert int8.is_file() and int8.parent == Path(summary.onnx_model).parent
    assert parity["verified"] and parity["int8"]["passed"] and parity["int8"]["max_loss"] == 0.01
    assert asdict(summary.parity.int8) == parity["int8"]
    # the next commands need no timestamps: runs/latest and the run's links to its outputs
    latest = tmp_path / "runs" / "latest"
    assert latest.resolve() == Path(summary.run_dir)
    assert (latest / "onnx_model" / "model.onnx").samefile(summary.onnx_model)
    assert (latest / "report.html").samefile(summary.report)
    # the report the user opens is the run's: the evaluation with the ONNX results
    report = (latest / "report.html").read_text()
    assert "The exported ONNX models" in report and "ONNX models verified" in report
    assert f"{parity['images']:,}</b>test images checked" in report
    assert f"{parity['int8']['int8_accuracy']:.4f}" in report and "Gate passed" in report
    repository = latest / "model_repository"
    assert sorted(p.name for p in repository.iterdir()) == ["alexnet", "alexnet_int8"]
    assert (latest / "model" / "model.keras").is_file() and (
        latest / "dataset" / "test.npz"
    ).is_file()
    assert len(list((latest / "samples").glob("*.png"))) == 4  # what the printed predict reads
    printed = run_cli("predict", latest / "samples", "--model", latest / "onnx_model", timeout=120)
    assert printed.returncode == 0 and len(printed.stdout.splitlines()) == 4, printed.stderr
    # a quick run's model is a trial (500 images per class), and says so wherever it answers
    said = "a trial model, trained on a sample of 500 images per class: not a model to ship"
    assert printed.stderr == f"alexnet-kfp predict: warning: {said}\n"
    for model in (Path(summary.onnx_model), int8):
        assert {p.key: p.value for p in onnx.load(model).metadata_props}["trial"] == said
    model = latest / "onnx_model"
    printed = run_cli("predict", latest / "samples", "--model", model, "--json", timeout=120)
    assert [r["trial"] for r in json.loads(printed.stdout)] == [said] * 4
    # QUICK trains the article network; the local CPU recipe leaves random crops off
    record = json.loads(next(Path(summary.run_dir).rglob("train.json")).read_text())
    trained = record["parameters"]
    assert (trained["variant"], trained["epochs"], trained["crop_padding"]) == (
        "article",
        QUICK.values["epochs"],
        0,
    )
    # the train task checkpointed into kfp.local's workspace (removed with the run's end)
    workspace = Path(summary.run_dir) / "workspace"
    assert record["checkpoint"] == {
        "path": str(workspace / "train-checkpoint"),
        "resumed_after_epoch": 0,
    }
    assert not workspace.exists()
    # what docs/local-run.md tells a user to open in TensorBoard
    assert list((latest / "model" / "tensorboard" / "validation").glob("events.out.tfevents.*"))


def test_an_impossible_gate_takes_the_else_branch_and_fails_with_its_reason(
    source, small_archive, small_sha256, tmp_path, capfd
):
    parameters = {
        **source,
        "sha256": "",  # an archive nobody vouches for: said on the terminal, with its sha256
        "limit_per_class": 20,
        "epochs": 1,
        "min_accuracy": 1.01,
    }
    with pytest.raises(RuntimeError) as failure:
        run_locally(parameters, tmp_path / "runs")
    message = str(failure.value)
    assert "reject-op" in message and "< min_accuracy 1.010" in message
    assert "rejected by the evaluation gate" in message
    assert not list((tmp_path / "runs").rglob("model.onnx"))
    shown = capfd.readouterr().out.splitlines()
    assert (
        f"  unverified archive: {small_archive} was not checked (no checksum given); its sha256 "
        f"is {small_sha256}: give it (--sha256 {small_sha256}, or the sha256 parameter) to check "
        "the archive"
    ) in shown, shown


def test_the_compiled_gpu_check_stops_the_train_step_on_a_cpu(source, tmp_path):
    parameters = {**source, "limit_per_class": 20, "epochs": 1, "require_gpu": True}
    with pytest.raises(RuntimeError) as failure:
        run_locally(parameters, tmp_path / "runs")
    assert "train-op" in str(failure.value)
    assert "alexnet-kfp train: error: no GPU visible in the train pod" in str(
        failure.value
    )  # one line, as the CLI
    assert not list((tmp_path / "runs").rglob("model.keras"))


def test_deploy_runs_after_verify_only_when_asked_and_refuses_a_local_artifact(source, tmp_path):
    # deploy=true takes the nested If after verify; kfp.local's artifacts are local paths, which no
    # KServe storage initializer can fetch, so the step stops with its one line before any cluster
    # call.
    parameters = {
        **source,
        "limit_per_class": 20,
        "epochs": 1,
        "min_accuracy": 0.0,
        "int8_max_loss": 1.0,
        "deploy": True,
    }
    with pytest.raises(RuntimeError) as failure:
        run_locally(parameters, tmp_path / "runs")
    assert "deploy-op" in str(failure.value)
    assert "alexnet-kfp deploy: error: storage URI" in str(failure.value)
    assert list((tmp_path / "runs").rglob("parity.json"))  # verify ran first
    assert list(
        (tmp_path / "runs").rglob("alexnet_int8/config.pbtxt")
    )  # the repository the step would serve
    # with no variant given, a local run trains the pipeline's network with the local profile's
    # crops, here through export and int8
    trained = json.loads(next((tmp_path / "runs").rglob("train.json")).read_text())["parameters"]
    assert (trained["variant"], trained["crop_padding"]) == ("cifar", LOCAL.values["crop_padding"])
