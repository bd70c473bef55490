"""The compiled sweep (sweep.yaml) as a real KFP backend runs it: the loop's parallelism, each
trial's GPU node, retries and workspace, a test split that only the chosen model meets, and a
100-trial list that compiles and is checked before it is sent.

The backend's rules are in kfp_backend.py, each with the file and release it comes from
(kubeflow/pipelines backend/src/v2, tags 2.2.0-2.17.0)."""

import json
from pathlib import Path

import pytest
import yaml
from google.protobuf import json_format
from kfp import compiler
from kfp.pipeline_spec import pipeline_spec_pb2

from alexnet_kfp.errors import InputError
from alexnet_kfp.pipeline.arguments import check_arguments, compiled_halving, declared_parameters
from alexnet_kfp.pipeline.parameters import PARAMETERS, SWEEP_PARAMETERS
from alexnet_kfp.pipeline.pipeline import TRAIN_RETRIES
from alexnet_kfp.pipeline.sweep import build_sweep
from alexnet_kfp.train.halving import Halving

from .cli import run_cli
from .kfp_backend import (
    BACKENDS,
    RejectedByBackend,
    at_least,
    collects_loop_outputs,
    constant_in_pod,
    find_task,
    loop_parallelism,
    pod_placement,
    retries,
    workspace_sharing,
    workspace_size,
    workspace_volume,
)
from .real_data import REPO

pytestmark = pytest.mark.unit

GPU_NODE = {
    "limits": {"nvidia.com/gpu": "1"},
    "nodeSelector": {"nvidia.com/gpu.present": "true"},
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
}


def _compile(tmp_path: Path, *flags: str) -> list[dict]:
    out = tmp_path / "sweep.yaml"
    result = run_cli("compile", "--sweep", "--output", out, *flags, timeout=300)
    assert result.returncode == 0, result.stderr
    return list(yaml.safe_load_all(out.read_text()))


@pytest.fixture(scope="module")
def committed() -> list[dict]:
    return list(yaml.safe_load_all((REPO / "sweep.yaml").read_text()))


@pytest.fixture(scope="module")
def portable(tmp_path_factory) -> list[dict]:
    """The sweep without the workspace: no checkpoints, no counted attempts."""
    return _compile(tmp_path_factory.mktemp("portable"), "--no-checkpoint", "--parallelism", "2")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory) -> list[dict]:
    return _compile(tmp_path_factory.mktemp("runtime"), "--runtime-placement")


def _loop(documents: list[dict]) -> str:
    (name,) = [
        task
        for task, body in documents[0]["root"]["dag"]["tasks"].items()
        if "parameterIterator" in body
    ]
    return name


def test_the_committed_sweep_is_what_compile_writes(tmp_path):
    result = run_cli("compile", "--sweep", "--output", tmp_path / "sweep.yaml", timeout=300)
    assert result.returncode == 0, result.stderr
    assert "at most 4 trials at once" in result.stdout
    assert (tmp_path / "sweep.yaml").read_bytes() == (REPO / "sweep.yaml").read_bytes(), (
        "sweep.yaml is stale: run `make compile` and commit it"
    )


def test_the_sweep_parses_strictly_into_kfp_protos(committed):
    json_format.ParseDict(
        committed[0], pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=False
    )


def test_its_parameters_are_the_pipelines_and_the_trials_each_described(committed):
    main = yaml.safe_load((REPO / "pipeline.yaml").read_text().split("\n---\n")[0])
    parameters = committed[0]["root"]["inputDefinitions"]["parameters"]
    expected = [*main["root"]["inputDefinitions"]["parameters"], "trials"]
    assert sorted(parameters) == sorted(expected)
    assert all(p["description"].strip() for p in parameters.values())
    assert parameters["trials"]["parameterType"] == "LIST"
    assert parameters["trials"]["defaultValue"] == SWEEP_PARAMETERS[0].default


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_loop_holds_at_most_parallelism_gpus(committed, portable, backend):
    # argocompiler/dag.go iteratorTask: Argo's parallelism from 2.4.1
    if not at_least(backend, "2.14.0"):  # driver/resolve.go CollectInputs: the fan-in
        assert not collects_loop_outputs(backend)
        return
    assert loop_parallelism(committed, _loop(committed), backend) == 4
    assert loop_parallelism(portable, _loop(portable), backend) == 2


@pytest.mark.parametrize("backend", [b for b in BACKENDS if collects_loop_outputs(b)])
def test_each_trial_gets_its_gpu_node(committed, portable, runtime, backend):
    # driver.go initPodSpecPatch / extendPodSpecPatch, for a task inside the loop's DAG
    assert pod_placement(portable, "trial-op", backend) == GPU_NODE
    if at_least(backend, "2.15.0"):
        assert pod_placement(committed, "trial-op", backend) == GPU_NODE
        # run-time placement: the loop's inputs bound to the root parameters
        pool = {"pool": "a100"}
        taint = [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
        arguments = {"gpu_count": "2", "gpu_node_selector": pool, "gpu_tolerations": taint}
        assert pod_placement(runtime, "trial-op", backend, arguments) == {
            "limits": {"nvidia.com/gpu": "2"},
            "nodeSelector": pool,
            "tolerations": taint,
        }


@pytest.mark.parametrize("backend", ["2.15.0", "2.17.0"])
def test_a_trial_is_retried_with_one_attempt_more_that_reports_it_lost(
    committed, portable, backend
):
    # container.go retryStrategy; the extra attempt counts past training_attempts (trial.py)
    attempts = retries(committed, "trial-op", backend) + 1
    training = find_task(committed[0], "trial-op")[1]["inputs"]["parameters"]["training_attempts"]
    assert attempts == TRAIN_RETRIES + 2
    assert training["runtimeValue"]["constant"] == TRAIN_RETRIES + 1
    assert constant_in_pod(committed, "trial-op", "workspace", backend) == "/kfp-workspace/sweep"
    assert workspace_size(committed, backend) == "8Gi"  # 2Gi for each trial that runs at once
    # without the workspace nothing counts the attempts: every retry trains
    assert retries(portable, "trial-op", backend) == TRAIN_RETRIES
    assert constant_in_pod(portable, "trial-op", "workspace", backend) == ""


def test_only_the_evaluate_step_is_given_the_test_split_with_the_chosen_model(committed):
    spec = committed[0]
    select_inputs = spec["components"]["comp-select-op"]["inputDefinitions"]
    # no Dataset: it cannot see the test split; the trials' models, and the list of the trials a
    # halving sweep stopped (the plan step's, empty, here)
    assert sorted(select_inputs["artifacts"]) == ["models", "stopped"]
    assert select_inputs["artifacts"]["models"]["isArtifactList"]
    stopped = spec["root"]["dag"]["tasks"]["select-op"]["inputs"]["artifacts"]["stopped"]
    assert stopped["taskOutputArtifact"]["producerTask"] == "plan-op"
    evaluate = spec["root"]["dag"]["tasks"]["evaluate-op"]["inputs"]["artifacts"]["model"]
    assert evaluate["taskOutputArtifact"]["producerTask"] == "select-op"
    # the trial trains on the Dataset (train and validation splits: trial.py) and is fanned in
    _, trial = find_task(spec, "trial-op")
    assert set(trial["inputs"]["artifacts"]) == {"dataset"}
    collected = spec["root"]["dag"]["tasks"]["select-op"]["inputs"]["artifacts"]["models"]
    assert collected["taskOutputArtifact"]["producerTask"] == _loop(committed)


def test_a_hundred_trials_compile_and_are_checked_before_they_are_sent(tmp_path):
    trials = [{"learning_rate": 1e-4 * (i + 1), "seed": i % 3} for i in range(100)]
    out = tmp_path / "sweep.yaml"
    compiler.Compiler().compile(build_sweep(), str(out), pipeline_parameters={"trials": trials})
    declared = declared_parameters(out)
    assert declared["trials"][1] == trials
    check_arguments({}, declared)  # the compiled default itself passes the steps' checks
    check_arguments({"trials": trials + [{"variant": "cifar"}]}, declared)
    with pytest.raises(InputError, match="trial 100 repeats trial 0"):
        check_arguments({"trials": [*trials, trials[0]]}, declared)
    with pytest.raises(InputError, match=r"trial 1: epochs must be at least 1"):
        check_arguments({"trials": [{}, {"epochs": 0}]}, declared)


def test_submit_reads_the_trials_from_a_file_and_checks_them_before_any_request(tmp_path):
    trials = tmp_path / "trials.json"
    trials.write_text(json.dumps([{"learning_rate": 0.001}, {"batch_size": True}]))
    # port 9 refuses: a check that passed would say "cannot reach"
    sweep = REPO / "sweep.yaml"
    given = ["submit", "--host", "http://127.0.0.1:9", "--pipeline", sweep, f"trials=@{trials}"]
    result = run_cli(*given, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "alexnet-kfp submit: error: trials: trial 1: batch_size=true is not a whole number"
    )
    trials.write_text(json.dumps([{"learning_rate": 0.001}, {"batch_size": 64}]))
    result = run_cli(*given, timeout=120)
    assert result.returncode == 2 and "cannot reach Kubeflow Pipelines" in result.stderr


def test_submit_checks_the_trials_against_the_halving_compiled_in(tmp_path):
    sweep = tmp_path / "sweep-halving.yaml"
    compiled = run_cli("compile", "--sweep", "--halving", 3, "--rungs", 3, "--output", sweep)
    assert compiled.returncode == 0, compiled.stderr
    assert "successive halving by 3 over 3 rungs" in compiled.stdout
    assert (
        compiled_halving(sweep) == Halving(3, 3) and compiled_halving(REPO / "sweep.yaml") is None
    )
    trials = tmp_path / "trials.json"
    trials.write_text(json.dumps([{"epochs": 27}, {"epochs": 8}, {"epochs": 9}]))
    given = ["submit", "--host", "http://127.0.0.1:9", "--pipeline", sweep, f"trials=@{trials}"]
    result = run_cli(*given, timeout=120)  # port 9 refuses: a check that passed would say so
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "alexnet-kfp submit: error: trials: trial 1: epochs=8 is too small to halve 2 times by "
        "3: the first rung would train 0.89 epochs; give at least 9"
    )
    trials.write_text(json.dumps([{"seed": 1}, {"seed": 2}, {"seed": 3}]))
    result = run_cli(*given, timeout=120)
    assert result.returncode == 2 and "cannot reach Kubeflow Pipelines" in result.stderr


def test_the_sweep_takes_every_training_parameter_and_no_other():
    trial_keys = {p.name for p in PARAMETERS if "train" in p.steps}
    declared = SWEEP_PARAMETERS[0].help
    assert all(key in declared for key in trial_keys)


def test_the_workspace_is_read_write_once_on_a_stock_install_unless_compiled_otherwise(
    committed, tmp_path
):
    # argo.go GetWorkspacePVC (2.17.0): the API server's default spec, the pipeline's patch over it
    operator = {"accessModes": ["ReadWriteMany"], "storageClassName": "standard"}
    stock = {"accessModes": ["ReadWriteOnce"], "storageClassName": None}
    assert workspace_volume(committed, "2.17.0", None) == stock
    assert workspace_volume(committed, "2.17.0", operator) == {
        **stock,
        "storageClassName": "standard",
    }
    assert workspace_sharing(committed, "2.17.0", None) == "one node"
    server = _compile(tmp_path, "--workspace-access-mode", "server")
    assert workspace_volume(server, "2.17.0", operator) == operator
    assert workspace_sharing(server, "2.17.0", operator) == "many nodes"
    with pytest.raises(RejectedByBackend, match="must specify accessModes"):
        workspace_volume(server, "2.17.0", None)
    flags = ("--workspace-access-mode", "ReadWriteMany", "--workspace-storage-class", "nfs-client")
    shared = _compile(tmp_path, *flags)
    expected = {"accessModes": ["ReadWriteMany"], "storageClassName": "nfs-client"}
    assert workspace_volume(shared, "2.17.0", operator) == expected
    assert workspace_volume(shared, "2.17.0", None) == expected
    # the same flags for the one-run pipeline; refused where there is no workspace
    result = run_cli("compile", "--output", tmp_path / "p.yaml", *flags, timeout=300)
    assert result.returncode == 0, result.stderr
    main = list(yaml.safe_load_all((tmp_path / "p.yaml").read_text()))
    assert workspace_volume(main, "2.17.0", None) == expected
    refused = run_cli("compile", "--no-checkpoint", "--output", tmp_path / "x.yaml", *flags[:2])
    assert refused.returncode == 2 and not (tmp_path / "x.yaml").exists()
    assert refused.stderr.strip() == (
        "alexnet-kfp compile: error: --workspace-* set the checkpoint's volume: drop them or "
        "--no-checkpoint"
    )


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--sweep", "--parallelism", "0"], "--parallelism must be between 1 and 250 trials"),
        (["--sweep", "--parallelism", "251"], "--parallelism must be between 1 and 250 trials"),
        (["--parallelism", "2"], "--parallelism is the sweep's: add --sweep"),
        (["--workspace-access-mode", "RWX"], "--workspace-access-mode must be one of"),
        (["--workspace-storage-class", "NFS"], "--workspace-storage-class 'NFS' is not a"),
        (["--workspace-storage-class", "a/b"], "--workspace-storage-class 'a/b' is not a"),
        (["--workspace-storage-class", "x" * 254], "--workspace-storage-class 'xxx"),
    ],
)
def test_bad_sweep_and_workspace_flags_give_one_line(tmp_path, flags, said):
    result = run_cli("compile", "--output", tmp_path / "out.yaml", *flags, timeout=120)
    assert result.returncode == 2 and not (tmp_path / "out.yaml").exists()
    assert result.stderr.startswith(f"alexnet-kfp compile: error: {said}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_compile_writes_a_checked_list_of_trials_as_the_sweeps_default(tmp_path):
    listed = [{"learning_rate": 1e-3, "seed": 0}, {"variant": "article", "epochs": 30}]
    (tmp_path / "trials.json").write_text(json.dumps(listed))
    out = tmp_path / "sweep.yaml"
    given = ["compile", "--sweep", "--trials", tmp_path / "trials.json", "--output", out]
    result = run_cli(*given, timeout=300)
    assert result.returncode == 0, result.stderr
    assert declared_parameters(out)["trials"][1] == listed
    (tmp_path / "trials.json").write_text(
        json.dumps([*listed, {"epochs": 30, "variant": "article"}])
    )
    out.unlink()
    refused = run_cli(*given, timeout=300)
    assert refused.returncode == 2 and not out.exists()
    assert (
        refused.stderr.strip()
        == "alexnet-kfp compile: error: trials: trial 2 repeats trial 1 "
        + ('({"epochs": 30, "variant": "article"})')
    )
