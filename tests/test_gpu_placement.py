"""The train task gets its GPU, node selector and toleration on every KFP backend from 2.2 to 2.17.

The backend's rules are in kfp_backend.py, each with the file and release it comes from
(kubeflow/pipelines backend/src/v2/driver/driver.go and resolve.go, tags 2.2.0-2.17.0).
"""

import re
from pathlib import Path

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from .cli import run_cli
from .kfp_backend import BACKENDS, RejectedByBackend, at_least, pod_placement, root_parameter
from .real_data import REPO

pytestmark = pytest.mark.unit

GPU = {"nvidia.com/gpu": "1"}
SELECTOR = {"nvidia.com/gpu.present": "true"}
TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
# What the KubernetesExecutorConfig of kfp-kubernetes at backend 2.2.0 (Kubeflow 1.9) can parse, for
# the fields we use: node-selector labels and plain tolerations (kubernetes_platform/proto, tag
# 2.2.0).
FIELDS_KNOWN_TO_2_2 = {
    "nodeSelector": {"labels"},
    "tolerations": {"key", "operator", "value", "effect", "tolerationSeconds"},
}


def _compile(tmp_path: Path, *flags: str) -> list[dict]:
    out = tmp_path / "pipeline.yaml"
    result = run_cli("compile", "--output", out, *flags, timeout=300)
    assert result.returncode == 0, result.stderr
    return list(yaml.safe_load_all(out.read_text()))


@pytest.fixture(scope="module")
def committed() -> list[dict]:
    return list(yaml.safe_load_all((REPO / "pipeline.yaml").read_text()))


@pytest.fixture(scope="module")
def portable(tmp_path_factory) -> list[dict]:
    """The pipeline without the workspace checkpoint: what backends before 2.15 run."""
    return _compile(tmp_path_factory.mktemp("portable"), "--no-checkpoint")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory) -> list[dict]:
    return _compile(tmp_path_factory.mktemp("runtime"), "--runtime-placement", "--no-checkpoint")


def _tasks(spec: dict):
    """(dag name, task name, executor label) of every container task, in the root and nested
    DAGs."""
    dags = {
        "root": spec["root"],
        **{name: c for name, c in spec["components"].items() if "dag" in c},
    }
    for dag, component in dags.items():
        for task, body in component["dag"]["tasks"].items():
            executor = spec["components"][body["componentRef"]["name"]].get("executorLabel")
            if executor:
                yield dag, task, executor


def _placeholders(spec: dict):
    """(task, field, placeholder) of every resource field that is a placeholder (root tasks only:
    ours)."""
    for dag, task, executor in _tasks(spec):
        resources = spec["deploymentSpec"]["executors"][executor]["container"].get("resources", {})
        if dag != "root":
            assert not any("{{" in str(v) for v in resources.values()), (
                f"placeholder in nested {task}: check by hand"
            )
            continue
        fields = {
            **{k: v for k, v in resources.items() if k != "accelerator"},
            **resources.get("accelerator", {}),
        }
        for field, value in fields.items():
            if isinstance(value, str) and value.startswith("{{"):
                yield task, field, value


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_gpu_node_is_had_on_every_backend_that_takes_the_pipeline(committed, portable, backend):
    # driver.go initPodSpecPatch (accelerator: legacy type/count up to 2.3.0, resourceType/Count
    # from 2.4.1) and extendPodSpecPatch (nodeSelector labels, plain tolerations), tags 2.2.0-2.17.0
    expected = {"limits": GPU, "nodeSelector": SELECTOR, "tolerations": [TOLERATION]}
    assert pod_placement(portable, "train-op", backend) == expected
    if at_least(backend, "2.14.0"):  # the committed one declares the run's workspace
        assert pod_placement(committed, "train-op", backend) == expected
    else:
        with pytest.raises(RejectedByBackend, match="pipelineConfig.workspace"):
            pod_placement(committed, "train-op", backend)


def test_the_portable_spec_carries_nothing_a_2_2_to_2_4_backend_rejects_or_drops(portable):
    # 2.2.0/2.3.0 parse KubernetesExecutorConfig strictly (unknown nodeSelectorJson/tolerationJson
    # fail the task); 2.4.1 ignores them; 2.2.0/2.3.0 driver.go reads only accelerator.type/count
    spec, platform = portable
    assert not list(_placeholders(spec)), (
        "backends 2.2/2.3 ignore placeholders; 2.4+ need STRING parameters"
    )
    accelerator = spec["deploymentSpec"]["executors"]["exec-train-op"]["container"]["resources"][
        "accelerator"
    ]
    # the legacy fields 2.2/2.3 read
    assert (accelerator["type"], accelerator["count"]) == ("nvidia.com/gpu", "1")
    # (test_pipeline_spec parses each executor config strictly with the current protos)
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    for executor, config in executors.items():
        assert set(config) <= set(FIELDS_KNOWN_TO_2_2), executor
        assert set(config["nodeSelector"]) <= FIELDS_KNOWN_TO_2_2["nodeSelector"]
        for toleration in config["tolerations"]:
            assert set(toleration) <= FIELDS_KNOWN_TO_2_2["tolerations"]


def test_the_gpu_check_is_on_in_the_compiled_pipeline(committed):
    # A placement the backend drops silently (see above) must not mean hours of CPU training
    spec, _ = committed
    assert spec["root"]["inputDefinitions"]["parameters"]["require_gpu"]["defaultValue"] is True
    binding = spec["root"]["dag"]["tasks"]["train-op"]["inputs"]["parameters"]["require_gpu"]
    assert binding == {"componentInputParameter": "require_gpu"}


def test_every_resource_placeholder_names_a_string_root_parameter(runtime):
    # resolve.go resolvePodSpecInputRuntimeParameter: `return val.GetStringValue(), nil`
    # (2.4.1-2.17.0). The committed spec has no placeholder at all (the test above).
    spec = runtime[0]
    declared = spec["root"]["inputDefinitions"]["parameters"]
    found = list(_placeholders(spec))
    assert {field for _, field, _ in found} == {"resourceType", "resourceCount"}
    for task, field, placeholder in found:
        name = root_parameter(spec, task, placeholder)
        assert declared[name]["parameterType"] == "STRING", f"{task}.{field} -> {name}"


def test_run_time_placement_works_from_2_5_and_is_documented_as_such(runtime):
    # driver.go extendPodSpecPatch resolves nodeSelectorJson/tolerationJson from 2.5.0 on; 2.4.1
    # knows the fields but sets nothing; 2.2.0/2.3.0 reject them (strict protojson)
    json_format.ParseDict(runtime[0], pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=False)
    for backend in ("2.5.0", "2.15.0", "2.17.0"):
        assert pod_placement(runtime, "train-op", backend) == {
            "limits": GPU,
            "nodeSelector": SELECTOR,
            "tolerations": [TOLERATION],
        }
        chosen = pod_placement(
            runtime,
            "train-op",
            backend,
            {
                "gpu_type": "amd.com/gpu",
                "gpu_count": "4",
                "gpu_node_selector": {"pool": "mi300"},
                "gpu_tolerations": [
                    {"key": "amd.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
                ],
            },
        )
        assert chosen["limits"] == {"amd.com/gpu": "4"} and chosen["nodeSelector"] == {
            "pool": "mi300"
        }
    assert (
        pod_placement(runtime, "train-op", "2.4.1")["nodeSelector"] == {}
    )  # 2.4.1 drops it silently
    for backend in ("2.2.0", "2.3.0"):
        with pytest.raises(RejectedByBackend):
            pod_placement(runtime, "train-op", backend)


def test_an_int_gpu_count_would_lose_the_gpu(runtime):
    # resolve.go resolvePodSpecInputRuntimeParameter returns val.GetStringValue() (2.4.1-2.17.0)
    # The bug this module exists for: an int parameter arrives as a number and GetStringValue()
    # gives "".
    spec = runtime[0]
    spec["root"]["inputDefinitions"]["parameters"]["gpu_count"] = {
        "defaultValue": 1.0,
        "parameterType": "NUMBER_INTEGER",
    }
    assert pod_placement(runtime, "train-op", "2.17.0")["limits"] == {}


def test_placement_is_chosen_at_compile_time_without_editing_python(tmp_path):
    # Constants in the spec: what every backend 2.2.0-2.17.0 reads (driver.go, as above)
    documents = _compile(
        tmp_path,
        "--gpu-type",
        "amd.com/gpu",
        "--gpu-count",
        "2",
        "--node-selector",
        "pool=gpu",
        "--node-selector",
        "zone=a",
        "--toleration",
        "dedicated=ml:NoSchedule",
        "--toleration",
        "amd.com/gpu:NoExecute",
        "--no-checkpoint",
    )
    for backend in BACKENDS:
        assert pod_placement(documents, "train-op", backend) == {
            "limits": {"amd.com/gpu": "2"},
            "nodeSelector": {"pool": "gpu", "zone": "a"},
            "tolerations": [
                {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"},
                {"key": "amd.com/gpu", "operator": "Exists", "effect": "NoExecute"},
            ],
        }
    bare = _compile(tmp_path, "--no-node-selector", "--no-toleration", "--no-checkpoint")
    assert pod_placement(bare, "train-op", "2.2.0") == {
        "limits": GPU,
        "nodeSelector": {},
        "tolerations": [],
    }


def test_a_cpu_only_compile_asks_for_no_gpu_and_does_not_require_one(tmp_path):
    documents = _compile(tmp_path, "--gpu-count", "0")
    assert pod_placement(documents, "train-op", "2.17.0") == {
        "limits": {},
        "nodeSelector": {},
        "tolerations": [],
    }
    assert (
        documents[0]["root"]["inputDefinitions"]["parameters"]["require_gpu"]["defaultValue"]
        is False
    )


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--gpu-count", "-1"], "--gpu-count"),
        (["--gpu-type", "GPU please"], "--gpu-type"),
        (["--node-selector", "pool"], "--node-selector"),
        (["--node-selector", "pool=two words"], "--node-selector"),
        (["--toleration", "dedicated=ml"], "--toleration"),
        (["--toleration", "dedicated:Sometimes"], "--toleration"),
        (["--runtime-placement", "--gpu-count", "0"], "--runtime-placement"),
    ],
)
def test_bad_placement_flags_give_one_line(tmp_path, flags, named):
    out = tmp_path / "p.yaml"
    result = run_cli("compile", "--output", out, *flags, timeout=120)
    assert result.returncode == 2 and not out.exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and re.match(
        r"alexnet-kfp compile: error: .*" + re.escape(named), lines[0]
    ), lines
