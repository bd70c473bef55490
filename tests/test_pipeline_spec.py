"""The compiled pipeline: reproducible bytes, strictly valid KFP protos, the GPU node settings and
the gate."""

import dataclasses
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from google.protobuf import json_format
from kfp.kubernetes import kubernetes_executor_config_pb2
from kfp.pipeline_spec import pipeline_spec_pb2

from alexnet_kfp.data.config import DataConfig
from alexnet_kfp.evaluate.gate import GateConfig
from alexnet_kfp.export import VerifyConfig
from alexnet_kfp.pipeline.compile import compile_pipeline
from alexnet_kfp.pipeline.parameters import PARAMETERS
from alexnet_kfp.pipeline.placement import Placement
from alexnet_kfp.train.config import TrainConfig

from .cli import cli_args
from .real_data import REPO

pytestmark = pytest.mark.unit


def _compile(output: Path) -> bytes:
    env = {k: v for k, v in os.environ.items() if k != "ALEXNET_KFP_IMAGE"}
    subprocess.run(
        cli_args("compile", "--output", output),
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    return output.read_bytes()


@pytest.fixture(scope="module")
def documents() -> list[dict]:
    return list(yaml.safe_load_all((REPO / "pipeline.yaml").read_text()))


def test_compile_twice_gives_the_committed_bytes(tmp_path):
    first, second = _compile(tmp_path / "a.yaml"), _compile(tmp_path / "b.yaml")
    assert first == second
    assert first == (REPO / "pipeline.yaml").read_bytes(), (
        "pipeline.yaml is stale: run `make compile` and commit it"
    )


def test_yaml_parses_strictly_into_kfp_protos(documents):
    spec, platform = documents
    json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=False)
    kubernetes = platform["platforms"]["kubernetes"]
    json_format.ParseDict(
        kubernetes, pipeline_spec_pb2.SinglePlatformSpec(), ignore_unknown_fields=False
    )
    for config in kubernetes["deploymentSpec"]["executors"].values():
        json_format.ParseDict(
            config,
            kubernetes_executor_config_pb2.KubernetesExecutorConfig(),
            ignore_unknown_fields=False,
        )


def test_train_gets_cpu_and_memory_for_its_input_pipeline(documents):
    spec, _ = documents
    resources = spec["deploymentSpec"]["executors"]["exec-train-op"]["container"]["resources"]
    assert (resources["resourceCpuRequest"], resources["resourceCpuLimit"]) == ("2", "8")
    assert (resources["resourceMemoryRequest"], resources["resourceMemoryLimit"]) == ("16G", "32G")
    assert (resources["cpuLimit"], resources["memoryLimit"]) == (
        8.0,
        32.0,
    )  # the fields backends 2.2/2.3 read


def _root_parameters(spec: dict) -> dict:
    return spec["root"]["inputDefinitions"]["parameters"]


@pytest.fixture(scope="module")
def runtime_spec(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("runtime") / "pipeline.yaml"
    compile_pipeline(out, Placement(runtime=True))
    return next(yaml.safe_load_all(out.read_text()))


def test_every_parameter_has_a_one_line_description_in_both_modes(documents, runtime_spec):
    # The Kubeflow UI's run form shows `description` beside each parameter.
    for spec in (documents[0], runtime_spec):
        for name, parameter in _root_parameters(spec).items():
            description = parameter.get("description", "")
            assert description and "\n" not in description, name


def test_the_two_placement_modes_share_their_parameters(documents, runtime_spec):
    literal, runtime = _root_parameters(documents[0]), _root_parameters(runtime_spec)
    placement = {"gpu_type", "gpu_count", "gpu_node_selector", "gpu_tolerations"}
    assert set(runtime) == set(literal) | placement
    for name, parameter in literal.items():
        assert runtime[name] == parameter, name


def test_every_parameter_reaches_a_step(documents):
    # A parameter is used where a task takes it as an input, in the root DAG or, as a
    # pipeline channel, inside the gate's branches.
    spec, _ = documents
    text = json.dumps(spec)
    for name in _root_parameters(spec):
        root_use = {"componentInputParameter": name}
        used_in_root = any(
            root_use in task.get("inputs", {}).get("parameters", {}).values()
            for task in spec["root"]["dag"]["tasks"].values()
        )
        assert used_in_root or f"pipelinechannel--{name}" in text, name


def test_each_steps_own_default_is_the_compiled_one(documents):
    # one default per parameter: `alexnet-kfp train` given nothing trains what the pipeline does;
    # require_gpu alone is the placement's (True on the GPU node, the step's False elsewhere)
    defaults = {name: p.get("defaultValue") for name, p in _root_parameters(documents[0]).items()}
    configs = (DataConfig, TrainConfig, GateConfig, VerifyConfig)
    fields = {f.name: f.default for config in configs for f in dataclasses.fields(config)}
    compared = 0
    for parameter in PARAMETERS:
        if parameter.argument not in fields or parameter.name == "require_gpu":
            continue
        own = fields[parameter.argument]
        assert defaults[parameter.name] == own, parameter.name
        compared += 1
    assert compared >= 15 and defaults["require_gpu"] is True and not fields["require_gpu"]


def test_the_defaults_are_the_measured_gpu_recipe_and_reach_the_train_task(documents):
    # docs/training.md: the cifar variant for the article's 100 epochs on the GPU node, random
    # 4-pixel crops and a plateau patience of 5.
    spec, _ = documents
    defaults = {
        name: p.get("defaultValue")
        for name, p in spec["root"]["inputDefinitions"]["parameters"].items()
    }
    assert (defaults["variant"], defaults["epochs"]) == ("cifar", 100)
    assert (defaults["crop_padding"], defaults["plateau_patience"]) == (4, 5)
    train = spec["root"]["dag"]["tasks"]["train-op"]["inputs"]["parameters"]
    for name in ("variant", "epochs", "crop_padding", "plateau_patience", "seed"):
        assert train[name] == {"componentInputParameter": name}


def test_gate_branches_on_the_evaluate_decision(documents):
    spec, _ = documents
    branches = spec["components"]["comp-condition-branches-1"]["dag"]["tasks"]
    conditions = {name: task["triggerPolicy"]["condition"] for name, task in branches.items()}
    passed = "inputs.parameter_values['pipelinechannel--evaluate-op-passed'] == true"
    assert sorted(conditions.values()) == sorted([passed, f"!({passed})"])
    passed_branch = next(name for name, condition in conditions.items() if condition == passed)
    failed_branch = next(name for name, condition in conditions.items() if condition != passed)
    exported = spec["components"][f"comp-{passed_branch}"]["dag"]["tasks"]
    assert {"export-op", "verify-op"} <= set(exported)
    assert set(spec["components"][f"comp-{failed_branch}"]["dag"]["tasks"]) == {"reject-op"}
    # deploy and register: nested in the passed branch, only when the run asks, after verify passed
    branches = {
        exported[name]["triggerPolicy"]["condition"]: name
        for name in set(exported) - {"export-op", "verify-op"}
    }
    deploy_branch = branches.pop("inputs.parameter_values['pipelinechannel--deploy'] == true")
    register_branch = branches.pop("inputs.parameter_values['pipelinechannel--register_as'] != ''")
    assert not branches
    assert set(exported[deploy_branch]["dependentTasks"]) == {"export-op", "verify-op"}
    deploy = spec["components"][f"comp-{deploy_branch}"]["dag"]["tasks"]["deploy-op"]
    assert deploy["inputs"]["artifacts"]["model_repository"]["componentInputArtifact"]
    assert spec["root"]["inputDefinitions"]["parameters"]["deploy"]["defaultValue"] is False
    # register: the verified model, the parity report, and the KFP run's id, which the backend's
    # driver resolves (backend/src/v2/driver/resolve.go, "{{$.pipeline_job_uuid}}", 2.17.0)
    assert set(exported[register_branch]["dependentTasks"]) == {"export-op", "verify-op"}
    register = spec["components"][f"comp-{register_branch}"]["dag"]["tasks"]["register-op"]
    assert register["inputs"]["parameters"]["kfp_run_id"] == {
        "runtimeValue": {"constant": "{{$.pipeline_job_uuid}}"}
    }
    artifacts = register["inputs"]["artifacts"]
    # and the model repository, which the registered version carries for `manifest --model`
    assert set(artifacts) == {
        "onnx_model", "model_repository", "evaluation", "parity_report", "dataset"
    }  # fmt: skip
    assert register["inputs"]["parameters"]["mlflow_model"] == {
        "componentInputParameter": "pipelinechannel--export-op-Output"
    }
    defaults = spec["root"]["inputDefinitions"]["parameters"]
    assert defaults["register_as"]["defaultValue"] == ""  # off unless a run names a model
    assert defaults["register_alias"]["defaultValue"] == ""  # candidate; a trial none


def test_verify_gives_the_ui_the_runs_report(documents):
    """The HTML the UI shows at the end of a run: verify's, made from evaluate's directory."""
    spec, _ = documents
    outputs = spec["components"]["comp-verify-op"]["outputDefinitions"]["artifacts"]
    assert outputs["report"]["artifactType"]["schemaTitle"] == "system.HTML"
    branch = next(
        c["dag"]["tasks"]
        for c in spec["components"].values()
        if "verify-op" in c.get("dag", {}).get("tasks", {})
    )
    evaluation = branch["verify-op"]["inputs"]["artifacts"]["evaluation"]
    assert evaluation == {"componentInputArtifact": "pipelinechannel--evaluate-op-evaluation"}


def test_the_train_task_reports_its_scalar_metrics(documents):
    """KFP's UI compares runs by, and its MLflow plugin logs, a task's system.Metrics outputs."""
    spec, _ = documents
    outputs = spec["components"]["comp-train-op"]["outputDefinitions"]["artifacts"]
    assert outputs["metrics"]["artifactType"]["schemaTitle"] == "system.Metrics"


def test_data_retries_and_caching_choices(documents):
    spec, _ = documents
    tasks = spec["root"]["dag"]["tasks"]
    assert tasks["data-op"]["retryPolicy"]["maxRetryCount"] == 3
    assert tasks["data-op"]["cachingOptions"] == {"enableCache": True}
    assert (
        tasks["evaluate-op"]["cachingOptions"] == {}
    )  # off: the gate is decided afresh on every run


def test_components_use_the_project_image_without_installing_kfp(documents):
    spec, _ = documents
    for name, executor in spec["deploymentSpec"]["executors"].items():
        container = executor["container"]
        assert container["image"] == "ghcr.io/alexnet-kfp/alexnet-kfp:0.1.0", name
        assert "pip install" not in " ".join(container["command"]), name
