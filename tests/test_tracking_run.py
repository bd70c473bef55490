"""`alexnet-kfp run --mlflow URI` against a real MLflow server, read back through MlflowClient: the
pipeline run and each step's nested run, the parameters, one point per epoch, the artifacts, the
ONNX models as MLflow models, the registered version with its tags and alias; the registered model
loaded through MLflow, by `predict --model models:/...` and by `serve` gives onnxruntime's answer.
A model the gate rejects is never registered."""

import json
import os
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import yaml

from alexnet_kfp.data.npz import load_split
from alexnet_kfp.files import file_digest
from alexnet_kfp.inference.onnx_classifier import OnnxClassifier
from alexnet_kfp.tracking.registered_model import cache_folder, server_key

from .cli import run_cli
from .kserve_crd import validate
from .mlflow_server import DOCS_PORT
from .synthetic import write_synthetic_archive
from .test_docs import BLOCKS, MLFLOW_MARKER, run_block
from .test_serve import Server

pytestmark = pytest.mark.e2e

EPOCHS = 3
NAME = "alexnet-cifar10"


@pytest.fixture
def tracked_env(mlflow_server, tmp_path) -> dict:
    """The environment of a user with a tracking server (the cache of registered models kept in
    the test's folder)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")},
        **mlflow_server.environment,  # its artifact store's endpoint and credentials
        "MLFLOW_TRACKING_URI": mlflow_server.uri,
        "ALEXNET_KFP_CACHE": str(tmp_path / "cache"),
    }


@pytest.fixture(scope="module")
def whole_archive(tmp_path_factory) -> Path:
    """A generated archive small enough to train on whole (500 training images): its models are
    not trials, as a team's weekly run is not, so the rules of promotion apply to them."""
    return write_synthetic_archive(tmp_path_factory.mktemp("archive") / "cifar.tar.gz", 3, 100)


def _run(archive: Path, runs: Path, env: dict, *flags: object):
    return run_cli(
        "run", "--runs", runs, "--source", archive, "--sha256", file_digest(archive),
        "--epochs", EPOCHS, "--seed", 3, "--mlflow", env["MLFLOW_TRACKING_URI"], *flags,
        timeout=900, env=env,
    )  # fmt: skip


def test_a_tracked_run_logs_each_step_and_registers_the_verified_model(
    mlflow_server, whole_archive, tracked_env, tmp_path, monkeypatch
):
    runs = tmp_path / "runs"
    done = _run(
        whole_archive, runs, tracked_env,
        "--min-accuracy", 0, "--register-as", NAME, "--register-alias", "candidate",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    summary = json.loads((runs / "latest" / "summary.json").read_text())
    tracking = summary["mlflow"]
    assert tracking["not_logged"] == [] and tracking["registered"]["registered"]
    assert f"registered     models:/{NAME}/" in done.stdout

    client = mlflow_server.client()
    pipeline_run = client.get_run(tracking["run_id"])
    assert pipeline_run.info.status == "FINISHED"
    assert pipeline_run.data.params["epochs"] == str(EPOCHS)
    assert pipeline_run.data.params["register_as"] == NAME
    assert pipeline_run.data.params["plateau_factor"] == "0.2"  # a default, not given: logged too
    steps = {
        run.info.run_name: run
        for run in client.search_runs(
            [pipeline_run.info.experiment_id],
            f"tags.mlflow.parentRunId = '{tracking['run_id']}'",
        )
    }
    assert set(steps) == {"train", "evaluate", "export", "verify", "register"}
    assert all(run.info.status == "FINISHED" for run in steps.values())

    # train: its configuration, one point per epoch of each curve, results, decays, files
    train = steps["train"]
    assert train.data.params["epochs"] == str(EPOCHS) and train.data.params["seed"] == "3"
    record = json.loads((runs / "latest" / "model" / "train.json").read_text())
    for metric in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"):
        history = client.get_metric_history(train.info.run_id, metric)
        assert [m.step for m in sorted(history, key=lambda m: m.step)] == [1, 2, 3], metric
    val = {m.step: m.value for m in client.get_metric_history(train.info.run_id, "val_accuracy")}
    assert val[record["best_epoch"]] == pytest.approx(record["best_val_accuracy"])
    assert train.data.metrics["best_val_accuracy"] == pytest.approx(record["best_val_accuracy"])
    assert train.data.tags["learning_rate_decays"].startswith("after epoch")  # the final decay
    logged = {a.path for a in client.list_artifacts(train.info.run_id)}
    assert {"train.json", "history.json", "tensorboard"} <= logged
    # the train task's own scalar Metrics, which KFP's UI and its MLflow plugin read
    (executed,) = (runs / "latest").resolve().glob("*/train-op/executor_output.json")
    outputs = json.loads(executed.read_text())["artifacts"]["metrics"]["artifacts"][0]
    assert outputs["metadata"]["best_val_accuracy"] == pytest.approx(record["best_val_accuracy"])
    assert outputs["metadata"]["epochs_run"] == EPOCHS

    # evaluate: test accuracy, F1, the gate's decision; the report and pictures
    evaluate = steps["evaluate"]
    assert evaluate.data.metrics["test_accuracy"] == pytest.approx(summary["accuracy"])
    assert evaluate.data.metrics["gate_passed"] == 1.0 and evaluate.data.tags["gate"] == "passed"
    assert len([k for k in evaluate.data.metrics if k.startswith("f1_")]) == 10
    assert evaluate.data.params["min_accuracy"] == "0.0"
    pictures = {a.path for a in client.list_artifacts(evaluate.info.run_id, "evaluation")}
    assert {"evaluation/report.html", "evaluation/confusion_matrix.png"} <= pictures

    # export and verify: sizes, both models as MLflow models, parity and int8 figures
    export, verify = steps["export"], steps["verify"]
    onnx_dir = runs / "latest" / "onnx_model"
    assert export.data.metrics["float32_bytes"] == (onnx_dir / "model.onnx").stat().st_size
    assert export.data.metrics["int8_bytes"] == (onnx_dir / "model.int8.onnx").stat().st_size
    parity = summary["parity"]
    assert verify.data.metrics["max_abs_diff"] == pytest.approx(parity["max_abs_diff"])
    assert verify.data.metrics["int8_accuracy"] == pytest.approx(parity["int8"]["int8_accuracy"])
    assert verify.data.tags["verified"] == "true"

    # both models are MLflow 3 logged models of the export's run, each linked to its figures
    import mlflow

    mlflow.set_tracking_uri(mlflow_server.uri)
    models = {
        m.name: m
        for m in mlflow.search_logged_models(
            experiment_ids=[pipeline_run.info.experiment_id], output_format="list"
        )
    }
    assert set(models) == {"onnx_model", "onnx_model_int8"}
    float32, int8 = models["onnx_model"], models["onnx_model_int8"]
    assert float32.source_run_id == int8.source_run_id == export.info.run_id
    assert float32.tags["onnx_sha256"] == file_digest(onnx_dir / "model.onnx")
    assert int8.tags["onnx_sha256"] == file_digest(onnx_dir / "model.int8.onnx")
    linked = {m.key: m.value for m in float32.metrics}
    assert linked["test_accuracy"] == pytest.approx(summary["accuracy"])
    assert linked["max_abs_diff"] == pytest.approx(parity["max_abs_diff"])
    assert linked["float32_bytes"] == (onnx_dir / "model.onnx").stat().st_size
    linked_int8 = {m.key: m.value for m in int8.metrics}
    assert linked_int8["int8_accuracy"] == pytest.approx(parity["int8"]["int8_accuracy"])

    # the pipeline's run carries the headline figures and tags, so the run table ranks runs
    headline = client.get_run(tracking["run_id"]).data
    expected = {
        "test_accuracy": summary["accuracy"],
        "best_val_accuracy": record["best_val_accuracy"],
        "parity_max_abs_diff": parity["max_abs_diff"],
        "parity_top1_agreement": parity["argmax_agreement"],
        "int8_accuracy": parity["int8"]["int8_accuracy"],
        "int8_top1_agreement": parity["int8"]["top1_agreement"],
        "float32_bytes": (onnx_dir / "model.onnx").stat().st_size,
        "int8_bytes": (onnx_dir / "model.int8.onnx").stat().st_size,
        "gate_passed": 1.0,
    }
    assert {k: headline.metrics.get(k) for k in expected} == pytest.approx(expected)
    assert "macro_f1" in headline.metrics
    assert {k: headline.tags.get(k) for k in ("network", "epochs", "trial", "gate")} == {
        "network": "cifar", "epochs": str(EPOCHS), "trial": "false", "gate": "passed",
    }  # fmt: skip
    assert headline.tags["dataset_sha256"] == file_digest(whole_archive)
    assert headline.tags["verified"] == "true" and headline.tags["headline"] == "true"

    # the registry: a version with its provenance, the alias on it
    version = client.get_model_version_by_alias(NAME, "candidate")
    assert f"models:/{NAME}/{version.version}" == tracking["registered"]["uri"]
    assert version.tags["test_accuracy"] == f"{summary['accuracy']:.6f}"
    assert version.tags["dataset_sha256"] == file_digest(whole_archive)
    assert version.tags["parity_images"] == str(parity["images"])
    assert version.tags["alexnet_kfp_version"] and version.tags["kfp_run_id"]
    assert version.run_id == export.info.run_id  # the model export logged, not a second copy
    assert version.source == f"models:/{float32.model_id}"
    assert headline.tags["registered_version"] == tracking["registered"]["uri"]

    # the registered model through MLflow (onnx flavour, its signature) = onnxruntime's answer
    import mlflow.pyfunc

    os.environ["MLFLOW_TRACKING_URI"] = mlflow_server.uri
    try:
        loaded = mlflow.pyfunc.load_model(f"models:/{NAME}@candidate")
    finally:
        del os.environ["MLFLOW_TRACKING_URI"]
    signature = loaded.metadata.signature.to_dict()
    assert json.loads(signature["inputs"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "uint8", "shape": [-1, 32, 32, 3]},
         "name": "image"},
    ]  # fmt: skip
    assert json.loads(signature["outputs"])[0]["tensor-spec"]["shape"] == [-1, 10]
    assert loaded.metadata.metadata["class_names"][3] == "cat"
    x, _ = load_split(runs / "latest" / "dataset", "test")
    expected = OnnxClassifier(onnx_dir).predict(x)
    through_mlflow = loaded.predict(x)["probabilities"]
    np.testing.assert_allclose(through_mlflow, expected, rtol=0, atol=1e-6)

    # predict --model models:/... answers as predict on the run's own directory
    samples = runs / "latest" / "samples"
    by_uri = run_cli(
        "predict", samples, "--model", f"models:/{NAME}@candidate", "--json", env=tracked_env
    )
    by_path = run_cli("predict", samples, "--model", onnx_dir, "--json", env=tracked_env)
    assert by_uri.returncode == 0, by_uri.stderr
    assert json.loads(by_uri.stdout) == json.loads(by_path.stdout)
    monkeypatch.setenv("ALEXNET_KFP_CACHE", tracked_env["ALEXNET_KFP_CACHE"])
    cached = cache_folder(server_key(mlflow_server.uri), NAME, int(version.version))
    assert f"models:/{NAME}@candidate is {cached}" in by_uri.stderr
    assert (cached / "model.onnx").read_bytes() == (onnx_dir / "model.onnx").read_bytes()
    assert (cached / "model.int8.onnx").is_file()  # --int8 works on a registered model too

    # serve --model models:/NAME/VERSION serves both models of the registered version
    for key, value in tracked_env.items():
        monkeypatch.setenv(key, value)
    server = Server(f"models:/{NAME}/{version.version}", tmp_path / "serve.log")
    try:
        for model in ("alexnet", "alexnet_int8"):
            with urllib.request.urlopen(f"{server.url}/v2/models/{model}", timeout=10) as answer:
                assert json.loads(answer.read())["inputs"][0]["shape"] == [-1, 32, 32, 3]
    finally:
        assert server.stop() == 0

    # docs/tracking.md's examples that need a registered model, as written, in order: load,
    # predict, then from run to production (compare, register, promote, a canary, roll back)
    if mlflow_server.port != DOCS_PORT:
        pytest.skip(f"port {DOCS_PORT}, which docs/tracking.md names, was taken: its examples")
    blocks = [b for b in BLOCKS if b[0].startswith("docs/tracking.md") and MLFLOW_MARKER in b[2]]
    assert len(blocks) == 7
    said = []
    for where, language, code in blocks:
        result = run_block(language, code, tmp_path, env=tracked_env)
        assert result.returncode == 0, f"{where}:\n{code}\n{result.stdout}\n{result.stderr}"
        said.append(result.stdout)
    compared, registered, promoted = said[2], said[3], said[4]
    assert tracking["run_id"] in compared and float32.model_id in compared
    assert registered.startswith(f"registered models:/{NAME}/2 (alias candidate)")
    assert promoted.startswith(f"promoted models:/{NAME}/2 (candidate) to production")
    canary = yaml.safe_load((tmp_path / "canary.yaml").read_text())
    validate(canary)
    assert canary["spec"]["predictor"]["canaryTrafficPercent"] == 10
    second = client.get_model_version(NAME, "2")
    assert canary["spec"]["predictor"]["model"]["storageUri"] == second.tags["model_repository"]
    assert second.tags["model_repository"].startswith("s3://")
    # rolled back: production names the first version again
    assert client.get_model_version_by_alias(NAME, "production").version == version.version


def test_a_model_the_gate_rejects_is_never_registered(
    mlflow_server, whole_archive, tracked_env, tmp_path
):
    rejected = f"{NAME}-rejected"
    failed = _run(
        whole_archive, tmp_path / "runs", tracked_env,
        "--min-accuracy", 1.0, "--register-as", rejected,
    )  # fmt: skip
    assert failed.returncode == 1 and "model rejected by the evaluation gate" in failed.stderr
    client = mlflow_server.client()
    assert client.search_registered_models(f"name = '{rejected}'") == []
    experiment = client.get_experiment_by_name("alexnet-kfp")
    (pipeline_run,) = [
        run
        for run in client.search_runs([experiment.experiment_id], "attributes.status = 'FAILED'")
        if run.data.params.get("register_as") == rejected
    ]
    steps = {
        run.info.run_name: run
        for run in client.search_runs(
            [experiment.experiment_id], f"tags.mlflow.parentRunId = '{pipeline_run.info.run_id}'"
        )
    }
    assert set(steps) == {"train", "evaluate"}  # no export, verify or register
    assert steps["evaluate"].data.tags["gate"] == "failed"
    assert steps["evaluate"].data.metrics["gate_passed"] == 0.0
