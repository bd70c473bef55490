"""InferenceService manifests, validated offline against KServe's own CRD schema and runtime
(tests/data/kserve): what `alexnet-kfp manifest` prints and what the deploy step would send."""

import os
import subprocess
import sys

import jsonschema
import pytest
import yaml

from alexnet_kfp.deploy.apply import manifest_for
from alexnet_kfp.deploy.manifests import custom_service, triton_service
from alexnet_kfp.errors import InputError

from . import kserve_crd
from .cli import run_cli

pytestmark = pytest.mark.unit

URI = "s3://models/alexnet/model_repository"


@pytest.mark.parametrize(
    "manifest",
    [
        triton_service(URI),
        triton_service(URI, name="cifar-int8", namespace="team-a"),
        custom_service(URI, "registry.example.com/alexnet-kfp:0.1.0"),
    ],
    ids=["triton", "triton-named", "custom"],
)
def test_manifests_pass_kserves_crd_schema(manifest):
    kserve_crd.validate(manifest)
    container = (
        manifest["spec"]["predictor"].get("model") or manifest["spec"]["predictor"]["containers"][0]
    )
    security = container["securityContext"]
    assert (
        security["runAsNonRoot"]
        and security["runAsUser"] != 0
        and not security["allowPrivilegeEscalation"]
    )
    assert container["resources"]["limits"]["memory"] and container["resources"]["requests"]["cpu"]


def test_the_triton_manifest_matches_the_runtime_kserve_installs():
    model = triton_service(URI)["spec"]["predictor"]["model"]
    runtime = kserve_crd.runtime()
    assert runtime["metadata"]["name"] == model["runtime"]
    assert {"name": "onnx", "version": "1", "autoSelect": True, "priority": 1} in runtime["spec"][
        "supportedModelFormats"
    ]
    assert model["modelFormat"] == {"name": "onnx", "version": "1"}
    assert model["protocolVersion"] in runtime["spec"]["protocolVersions"]
    runtime_user = runtime["spec"]["containers"][0]["securityContext"]["runAsUser"]
    assert model["securityContext"]["runAsUser"] == runtime_user


def test_a_typo_or_a_bad_value_would_not_pass(tmp_path):
    typo = triton_service(URI)
    typo["spec"]["predictor"]["model"]["storgeUri"] = URI
    with pytest.raises(AssertionError, match="storgeUri"):
        kserve_crd.validate(typo)
    wrong_type = triton_service(URI)
    wrong_type["spec"]["predictor"]["minReplicas"] = "one"
    with pytest.raises(jsonschema.ValidationError):
        kserve_crd.validate(wrong_type)


def test_the_deploy_step_sends_a_valid_object_for_a_pipeline_artifact():
    sent = manifest_for(
        "minio://mlpipeline/v2/artifacts/alexnet-cifar10/run/export-op/model_repository",
        "alexnet-cifar10",
        "",
    )
    kserve_crd.validate(sent)
    assert sent["spec"]["predictor"]["model"]["storageUri"].startswith(
        "s3://mlpipeline/v2/artifacts/"
    )
    assert "namespace" not in sent["metadata"]  # empty: the run's own namespace


@pytest.mark.parametrize(
    "call, says",
    [
        (lambda: triton_service(URI, name="AlexNet_1"), "DNS label"),
        (lambda: triton_service(URI, name="a" * 64), "DNS label"),
        (lambda: triton_service("/local/path"), "storage URI"),
        (lambda: triton_service("s3://"), "storage URI"),
        (lambda: custom_service(URI, ""), "project image"),
    ],
)
def test_bad_names_and_uris_are_refused(call, says):
    with pytest.raises(InputError, match=says):
        call()


def test_manifest_command_prints_the_same_object():
    done = run_cli("manifest", "--storage-uri", URI, "--namespace", "ns", timeout=60)
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout) == triton_service(URI, namespace="ns")
    done = run_cli("manifest", "--storage-uri", "ftp://x/y", timeout=60)
    assert (
        done.returncode == 2
        and len(done.stderr.strip().splitlines()) == 1
        and "storage URI" in done.stderr
    )


def test_deploy_without_a_cluster_says_so(tmp_path):
    # In a child process: kserve and tritonclient (imported by other tests here) both register the
    # Open Inference Protocol's `inference.*` protobuf messages, and one process cannot hold both.
    script = (
        "from alexnet_kfp.deploy.apply import DeployError, deploy\n"
        "from alexnet_kfp.deploy.manifests import triton_service\n"
        "try:\n"
        f"    deploy(triton_service({URI!r}))\n"
        "except DeployError as e:\n"
        "    print(e)\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "KUBECONFIG": str(tmp_path / "absent"),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0 and done.stdout.startswith("no Kubernetes cluster to deploy to"), (
        done
    )
