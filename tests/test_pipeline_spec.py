"""The compiled pipeline: reproducible bytes, strictly valid KFP protos, the GPU node settings and the gate."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from google.protobuf import json_format
from kfp.kubernetes import kubernetes_executor_config_pb2
from kfp.pipeline_spec import pipeline_spec_pb2

from .real_data import REPO


def _compile(output: Path) -> bytes:
    env = {k: v for k, v in os.environ.items() if k != "ALEXNET_KFP_IMAGE"}
    subprocess.run([sys.executable, "-m", "alexnet_kfp", "compile", "--output", str(output)],
                   check=True, capture_output=True, env=env, timeout=300)
    return output.read_bytes()


@pytest.fixture(scope="module")
def documents() -> list[dict]:
    return list(yaml.safe_load_all((REPO / "pipeline.yaml").read_text()))


def test_compile_twice_gives_the_committed_bytes(tmp_path):
    first, second = _compile(tmp_path / "a.yaml"), _compile(tmp_path / "b.yaml")
    assert first == second
    assert first == (REPO / "pipeline.yaml").read_bytes(), "pipeline.yaml is stale: run `make compile` and commit it"


def test_yaml_parses_strictly_into_kfp_protos(documents):
    spec, platform = documents
    json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=False)
    kubernetes = platform["platforms"]["kubernetes"]
    json_format.ParseDict(kubernetes, pipeline_spec_pb2.SinglePlatformSpec(), ignore_unknown_fields=False)
    for config in kubernetes["deploymentSpec"]["executors"].values():
        json_format.ParseDict(config, kubernetes_executor_config_pb2.KubernetesExecutorConfig(),
                              ignore_unknown_fields=False)


def test_train_gets_cpu_and_memory_for_its_input_pipeline(documents):
    spec, _ = documents
    resources = spec["deploymentSpec"]["executors"]["exec-train-op"]["container"]["resources"]
    assert (resources["resourceCpuRequest"], resources["resourceCpuLimit"]) == ("4", "8")
    assert (resources["resourceMemoryRequest"], resources["resourceMemoryLimit"]) == ("16G", "32G")
    assert (resources["cpuLimit"], resources["memoryLimit"]) == (8.0, 32.0)  # the fields backends 2.2/2.3 read


def test_the_defaults_are_the_measured_gpu_recipe_and_reach_the_train_task(documents):
    # README, "Which network, how many epochs": the cifar variant for the article's 100 epochs on the
    # GPU node, random 4-pixel crops and a plateau patience of 5 (3 fired on one noisy epoch).
    spec, _ = documents
    defaults = {name: p.get("defaultValue") for name, p in spec["root"]["inputDefinitions"]["parameters"].items()}
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
    # deploy: nested in the passed branch, only when the run asks, and only after verify passed
    (deploy_branch,) = set(exported) - {"export-op", "verify-op"}
    assert exported[deploy_branch]["triggerPolicy"]["condition"] == "inputs.parameter_values['pipelinechannel--deploy'] == true"
    assert set(exported[deploy_branch]["dependentTasks"]) == {"export-op", "verify-op"}
    deploy = spec["components"][f"comp-{deploy_branch}"]["dag"]["tasks"]["deploy-op"]
    assert deploy["inputs"]["artifacts"]["model_repository"]["componentInputArtifact"]
    assert spec["root"]["inputDefinitions"]["parameters"]["deploy"]["defaultValue"] is False


def test_data_retries_and_caching_choices(documents):
    spec, _ = documents
    tasks = spec["root"]["dag"]["tasks"]
    assert tasks["data-op"]["retryPolicy"]["maxRetryCount"] == 3
    assert tasks["data-op"]["cachingOptions"] == {"enableCache": True}
    assert tasks["evaluate-op"]["cachingOptions"] == {}  # off: the gate is decided afresh on every run


def test_components_use_the_project_image_without_installing_kfp(documents):
    spec, _ = documents
    for name, executor in spec["deploymentSpec"]["executors"].items():
        container = executor["container"]
        assert container["image"] == "ghcr.io/alexnet-kfp/alexnet-kfp:0.1.0", name
        assert "pip install" not in " ".join(container["command"]), name
