"""Tracking never harms a step: no URI, no mlflow import; a tracker that is closed, hung, killed
mid-run or not installed leaves one warning line, a line saying what was not logged, and a step
that finished its work. Names and URIs are checked before anything starts."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from alexnet_kfp.errors import InputError
from alexnet_kfp.tracking.environment import check_tracking_uri
from alexnet_kfp.tracking.registered_model import local_model
from alexnet_kfp.tracking.registry import check_alias, check_model_name
from alexnet_kfp.tracking.session import BOUNDED_HTTP, Tracker, bound_requests

from .cli import cli_args, run_cli_without_tensorflow, run_train
from .mlflow_server import MlflowServer, free_port


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """This file's own MLflow server, on a free port: the session's, on the port the docs name,
    is test_tracking_run.py's, which may run at the same time on `make test`'s other worker."""
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-here")).start()
    yield server
    server.stop()


def _mlflow_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("mlflow: ")]


@pytest.mark.integration
def test_without_a_uri_the_steps_log_nothing_and_never_import_mlflow(tiny_dataset, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    script = (
        "import sys\n"
        "from alexnet_kfp.cli import main\n"
        f"code = main(['train', '--data', {str(tiny_dataset)!r}, '--out', "
        f"{str(tmp_path / 'model')!r}, '--epochs', '1'])\n"
        "assert 'mlflow' not in sys.modules, 'mlflow was imported'\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert not _mlflow_lines(result.stderr)


@pytest.mark.integration
def test_a_closed_port_costs_one_warning_and_the_step_completes(tiny_dataset, tmp_path):
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{free_port()}"}
    result = run_train(tiny_dataset, tmp_path / "model", "--epochs", 2, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "model" / "model.keras").is_file()
    failed, missed = _mlflow_lines(result.stderr)
    assert failed.startswith("mlflow: train: logging the run to http://127.0.0.1:") and (
        "the step goes on without tracking" in failed
    )
    assert missed.startswith("mlflow: train: not logged: the run, tags, parameters,")
    assert "the per-epoch metrics" in missed and "train.json" in missed


@pytest.mark.integration
def test_a_server_killed_mid_run_leaves_the_epochs_before_it_and_a_finished_step(
    tiny_dataset, tmp_path
):
    server = MlflowServer(tmp_path / "mlflow").start()
    try:
        env = {**os.environ, "MLFLOW_TRACKING_URI": server.uri, "MLFLOW_EXPERIMENT_NAME": "kill"}
        command = cli_args(
            "train", "--variant", "article", "--data", tiny_dataset, "--out", tmp_path / "model"
        )
        training = subprocess.Popen(
            [*command, "--epochs", "12"], env=env, stderr=subprocess.PIPE, text=True
        )
        client = server.client()
        deadline = time.monotonic() + 240
        logged_epochs: list = []
        while not logged_epochs:  # the first epoch's point reached the server: kill it now
            assert training.poll() is None and time.monotonic() < deadline
            experiment = client.get_experiment_by_name("kill")
            runs = client.search_runs([experiment.experiment_id]) if experiment else []
            logged_epochs = runs and client.get_metric_history(runs[0].info.run_id, "loss")
            time.sleep(0.1)
        server.stop(signal.SIGKILL)
        _, stderr = training.communicate(timeout=600)
    finally:
        server.stop(signal.SIGKILL)
    assert training.returncode == 0, stderr
    assert (tmp_path / "model" / "model.keras").is_file()
    failed, missed = _mlflow_lines(stderr)
    assert "the step goes on without tracking" in failed
    assert missed.startswith("mlflow: train: not logged: the per-epoch metrics,")
    server.start()  # the same store: what was logged before the kill is there
    try:
        (run,) = server.client().search_runs([experiment.experiment_id])
        history = server.client().get_metric_history(run.info.run_id, "loss")
        assert 1 <= len(history) < 12 and [m.step for m in history] == list(
            range(1, len(history) + 1)
        )
        assert run.data.params["epochs"] == "12" and run.info.status == "RUNNING"
    finally:
        server.stop()


@pytest.mark.unit
def test_a_hung_server_is_given_up_after_its_bounded_wait(monkeypatch):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # accepts, never answers
    held = []
    threading.Thread(target=lambda: held.append(listener.accept()), daemon=True).start()
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "1")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    tracker = Tracker("train", f"http://127.0.0.1:{listener.getsockname()[1]}").start()
    tracker.params({"epochs": 3})
    tracker.finish()
    listener.close()
    assert not tracker.active and tracker.missed == ["the run", "tags", "parameters"]


@pytest.mark.unit
def test_requests_are_bounded_unless_the_user_says_otherwise(monkeypatch):
    for name in BOUNDED_HTTP:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    bound_requests()
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "60"
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "2"


@pytest.mark.unit
def test_a_missing_tracking_extra_is_one_warning_not_a_failure():
    script = (
        "import sys\n"
        "sys.modules['mlflow'] = None  # an install without the tracking extra\n"
        "from alexnet_kfp.process import setup\n"
        "from alexnet_kfp.tracking import tracked\n"
        "setup()\n"
        "with tracked('evaluate') as tracker:\n"
        "    tracker.metrics({'test_accuracy': 0.8})\n"
    )
    env = {**os.environ, "MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    missing, missed = _mlflow_lines(result.stderr)
    hint = "in a clone of alexnet-kfp, pip install '.[tracking]'; from a package index, pip install"
    assert f"the tracking extra is not installed ({hint} 'alexnet-kfp[tracking]')" in missing
    assert missed == "mlflow: evaluate: not logged: everything, metrics"


@pytest.mark.unit
@pytest.mark.parametrize(
    "uri",
    [
        "mlruns",
        "localhost:5000",
        "ftp://host/x",
        "http://",
        "file://",
        "file:///tmp/mlruns",
        "",
        " ",
    ],
)
def test_a_tracking_uri_that_tracks_nothing_is_refused(uri):
    with pytest.raises(InputError, match="a tracking server's URL"):
        check_tracking_uri(uri)


@pytest.mark.unit
@pytest.mark.parametrize("uri", ["file:///tmp/mlruns", "./mlruns"])
def test_a_step_given_a_file_store_goes_on_without_tracking(uri, tmp_path, caplog):
    # MLflow 3 raises on a file store when its client is made: that must cost a warning only
    tracker = Tracker("train", uri).start()
    assert not tracker.active and tracker.missed == ["everything"]
    assert (
        "MLflow 3 keeps no runs in a folder" in caplog.text and "nothing is logged" in caplog.text
    )


@pytest.mark.unit
@pytest.mark.parametrize(
    "uri", ["http://127.0.0.1:5000", "https://mlflow.example.com/", "sqlite:///mlflow.db"]
)
def test_a_tracking_uri_is_accepted(uri):
    assert check_tracking_uri(uri) == uri


@pytest.mark.unit
@pytest.mark.parametrize(
    "name", ["a/b", "a@b", "../x", ".hidden", "-x", "x" * 129, "a b", "ä", "a\nb", "models:/x"]
)
def test_a_registered_name_that_breaks_its_uri_is_refused(name):
    with pytest.raises(InputError, match="a registered model's name is"):
        check_model_name(name)


@pytest.mark.unit
@pytest.mark.parametrize("alias", ["", "latest", "v3", "V12", "a.b", "a b", "a/b", "x" * 256])
def test_an_alias_mlflow_would_refuse_or_misread_is_refused(alias):
    with pytest.raises(InputError, match="an alias is"):
        check_alias(alias)


@pytest.mark.unit
@pytest.mark.parametrize(
    "uri", ["models:/a", "models:/a@", "models:/a/0", "models:/a/b", "models:/../x/1", "runs:/x"]
)
def test_a_model_uri_that_names_no_version_is_refused(uri):
    with pytest.raises(InputError, match="expected models:/NAME@ALIAS or models:/NAME/VERSION"):
        local_model(uri)


@pytest.mark.unit
def test_a_model_uri_on_a_server_out_of_reach_is_one_line(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with pytest.raises(InputError, match="cannot reach the MLflow tracking server at http://"):
        local_model("models:/alexnet-cifar10@candidate")


@pytest.mark.integration
def test_a_model_uri_the_registry_does_not_know_is_one_line(mlflow_server, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    with pytest.raises(InputError, match=r"models:/no-such-model/1: .*no-such-model.* not found"):
        local_model("models:/no-such-model/1")
    with pytest.raises(InputError, match="no-such-model"):
        local_model("models:/no-such-model@candidate")


@pytest.mark.unit
def test_a_model_uri_without_a_tracking_server_says_what_to_set(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(InputError, match="set MLFLOW_TRACKING_URI"):
        local_model("models:/alexnet-cifar10@candidate")


@pytest.mark.unit
@pytest.mark.parametrize(
    "flags, says",
    [
        (["--register-as", "alexnet"], "register_as=alexnet registers in MLflow's model registry"),
        (["--param", "register_as=x"], "register_as=x registers in MLflow's model registry"),
        (["--mlflow", "mlruns"], "--mlflow 'mlruns': MLflow 3 keeps no runs in a folder"),
        (["--mlflow", "file:///tmp/mlruns"], "MLflow 3 keeps no runs in a folder"),
        (["--register-as", "a/b", "--mlflow", "http://127.0.0.1:5000"], "parameter register_as"),
        (
            ["--register-alias", "latest", "--register-as", "a", "--mlflow", "http://x:5000"],
            "parameter register_alias 'latest'",
        ),
    ],
)
def test_run_refuses_tracking_settings_in_one_line_before_any_step(flags, says, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    result = run_cli_without_tensorflow("run", "--runs", str(tmp_path), *flags, env=env)
    assert result.returncode == 2, result.stderr
    assert says in result.stderr.strip().splitlines()[-1] and not list(tmp_path.iterdir())


@pytest.fixture(scope="module")
def evaluated(trained, small_dataset, tmp_path_factory) -> dict:
    """metrics.json of the shared trained model (evaluated without a tracking URI)."""
    from alexnet_kfp.evaluate.evaluate import evaluate

    out = tmp_path_factory.mktemp("evaluated") / "evaluation"
    return {"metrics": evaluate(small_dataset, trained[0], out, min_accuracy=0.1), "dir": out}


@pytest.mark.integration
@pytest.mark.parametrize("left_to_kfp", [True, False])
def test_in_kfps_run_of_the_task_the_step_leaves_the_inputs_to_kfp(
    mlflow_server, evaluated, monkeypatch, left_to_kfp
):
    """KFP's MLflow plugin (backend 2.17.0): OnTaskStart makes the task's nested run and injects
    MLFLOW_RUN_ID, MLFLOW_TRACKING_URI and MLFLOW_EXPERIMENT_ID (plugins/mlflow/handler.go,
    RetrieveUserContainerEnvVars); at the task's end the launcher logs the task's input
    parameters as JSON and its scalar Metrics into that run in one batch, then sets its status
    (component/launcher_v2.go, Execute; handler.go, OnTaskEnd and mapToParams). The step logs
    into the same run: had it logged an input under another spelling, MLflow would refuse KFP's
    whole batch."""
    from mlflow.entities import Metric, Param
    from mlflow.exceptions import MlflowException

    from alexnet_kfp.evaluate.tracking import log_evaluation
    from alexnet_kfp.tracking import environment

    client = mlflow_server.client()
    experiment = client.create_experiment(f"kfp-plugin-{left_to_kfp}")
    task_run = client.create_run(experiment, run_name="evaluate-op").info.run_id
    for name, value in (
        ("MLFLOW_TRACKING_URI", mlflow_server.uri),
        ("MLFLOW_RUN_ID", task_run),
        ("MLFLOW_EXPERIMENT_ID", experiment),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(environment, "_LOGGED_BY_KFP", set())
    if left_to_kfp:  # what evaluate_op does with its inputs
        environment.kfp_logs_inputs(["min_accuracy", "baseline", "max_regression", "dataset"])
    log_evaluation(evaluated["metrics"], evaluated["dir"])
    assert client.get_run(task_run).info.status == "RUNNING"  # the plugin ends it, not the step

    # the launcher's batch: Go's json.Marshal of each input, the Metrics artifact's scalars
    params = [
        Param("min_accuracy", "0.1"),
        Param("baseline", '""'),
        Param("max_regression", "0.01"),
    ]
    metrics = [Metric("accuracy", evaluated["metrics"].accuracy, 0, 0)]
    if not left_to_kfp:
        with pytest.raises(MlflowException, match="[Cc]hanging param values is not allowed"):
            client.log_batch(task_run, metrics=metrics, params=params)
        return
    client.log_batch(task_run, metrics=metrics, params=params)
    client.set_terminated(task_run, "FINISHED")
    run = client.get_run(task_run)
    assert run.data.params["baseline"] == '""' and run.data.params["min_accuracy"] == "0.1"
    assert run.data.metrics["test_accuracy"] == run.data.metrics["accuracy"]
    assert run.data.tags["gate"] in ("passed", "failed") and run.info.status == "FINISHED"


@pytest.mark.integration
def test_the_headline_reaches_the_pipeline_run_through_kfps_nesting(
    mlflow_server, evaluated, monkeypatch
):
    """KFP's plugin makes each task's run nested with the tag `mlflow.parentRunId` (backend
    2.17.0: plugins/mlflow/handler.go 68-69, the key in backend/src/common/plugins/mlflow/
    client.go 67), under the run of the DAG that holds it (driver/dag.go 112-121): the pipeline's
    run is the top of that chain, which the step climbs to put its headline figures there. The
    runs between keep none; a run with no parent is its own top and gets none twice."""
    from alexnet_kfp.evaluate.tracking import log_evaluation

    client = mlflow_server.client()
    experiment = client.create_experiment("kfp-nesting")
    pipeline = client.create_run(experiment, run_name="pipeline").info.run_id
    condition = client.create_run(
        experiment, run_name="condition-1", tags={"mlflow.parentRunId": pipeline}
    ).info.run_id
    task = client.create_run(
        experiment, run_name="evaluate-op", tags={"mlflow.parentRunId": condition}
    ).info.run_id
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    monkeypatch.setenv("MLFLOW_RUN_ID", task)
    record = evaluated["metrics"]
    log_evaluation(record, evaluated["dir"])
    top = client.get_run(pipeline).data
    assert top.metrics["test_accuracy"] == pytest.approx(record.accuracy)
    assert top.metrics["macro_f1"] == pytest.approx(record.macro_f1)
    assert top.tags["headline"] == "true" and top.tags["gate"] in ("passed", "failed")
    assert client.get_run(condition).data.metrics == {}
    # a step's command run alone: its own run is the top, each figure logged once
    alone = client.create_run(experiment, run_name="evaluate").info.run_id
    monkeypatch.setenv("MLFLOW_RUN_ID", alone)
    log_evaluation(record, evaluated["dir"])
    assert len(client.get_metric_history(alone, "test_accuracy")) == 1
    assert "headline" not in client.get_run(alone).data.tags


@pytest.mark.unit
@pytest.mark.parametrize(
    "name, key",
    [("cat", "cat"), ("café crème", "café crème"), ("a+b", "a_b"), ("5 €", "5 _"),
     ("défaut #3", "défaut _3"), ("日本", "日本"), ("x@y", "x_y")],
)  # fmt: skip
def test_a_class_name_becomes_a_metric_name_mlflow_takes(name, key):
    """A folder's name is any text (docs/data.md); MLflow refuses a metric named with some of it,
    and with it the whole batch: KFP's plugin's, which copies the evaluate task's f1_<class>."""
    from mlflow.utils.validation import _validate_metric_name

    from alexnet_kfp.evaluate.tracking import metric_key

    assert metric_key(name) == key
    _validate_metric_name(f"f1_{key}")
