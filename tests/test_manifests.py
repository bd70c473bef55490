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


@pytest.mark.parametrize(
    "uri, says",
    [
        ("https:///x", "needs a host and the model repository's path"),
        ("https://host/", "needs a host and the model repository's path"),
        ("https://:80/x", "needs a host"),
        ("https://host:99999/x", "its port is not a number"),
        ("pvc:///x", "is not a PersistentVolumeClaim name"),
        ("pvc://Claim_1/x", "is not a PersistentVolumeClaim name"),
        ("pvc://claim/../../etc", "'.' and '..' are not path segments"),
        ("s3://bucket/./x", "'.' and '..' are not path segments"),
        ("s3:///path", "is not an S3 bucket name"),
        ("s3://Bucket/x", "is not an S3 bucket name"),
        ("s3://ab/x", "is not an S3 bucket name"),
        ("minio://my_bucket/x", "is not an S3 bucket name"),
        ("gs://Bad_Bucket/x", "is not a Cloud Storage bucket name"),
        ("s3://bucket/my model", "holds a space"),
        ("gs://bucket/a\nb", "a line break"),
        ("s3://bucket/x\ty", "control character"),
        ("s3://bucket/x\x00", "control character"),
        ("hf://org", "hf://ORG/MODEL"),
        ("oci://registry", "oci://HOST/PATH"),
        ("ftp://x/y", "must start with one of"),
        ("S3://bucket/x", "must start with one of"),
    ],
)
def test_storage_uris_kserve_cannot_fetch_are_one_line(uri, says):
    for make in (triton_service, lambda u: custom_service(u, "ghcr.io/you/alexnet-kfp:0.1.0")):
        with pytest.raises(InputError) as refused:
            make(uri)
        message = str(refused.value)
        assert says in message and "\n" not in message.replace("\\n", ""), message


@pytest.mark.parametrize(
    "uri",
    [
        "s3://bucket/models/alexnet",
        "minio://mlpipeline/v2/artifacts/run/export-op/model_repository",
        "gs://my_bucket.example/x",
        "pvc://model-store/alexnet",
        "pvc://model-store",
        "https://models.example.com:8443/alexnet/model_repository.tar.gz",
        "hf://org/model",
        "oci://registry.example.com/ml/alexnet:1",
    ],
)
def test_storage_uris_kserve_fetches_pass(uri):
    assert triton_service(uri)["spec"]["predictor"]["model"]["storageUri"].endswith(uri[5:])


@pytest.mark.parametrize(
    "image",
    ["", "x y", "Ghcr.io/You/AlexNet:1", "ghcr.io//x", "x:", "x:-tag", "x@sha256:12", "-x",
     "https://ghcr.io/x", "x:a:b", "x\n"],
)  # fmt: skip
def test_image_references_a_runtime_cannot_pull_are_one_line(image, tmp_path):
    with pytest.raises(InputError, match="image"):
        custom_service(URI, image)
    compiled = run_cli(
        "compile", "--output", tmp_path / "p.yaml", env=os.environ | {"ALEXNET_KFP_IMAGE": image}
    )
    assert compiled.returncode == 2 and not (tmp_path / "p.yaml").exists()
    (line,) = compiled.stderr.strip().splitlines()
    assert line.startswith(f"alexnet-kfp compile: error: ALEXNET_KFP_IMAGE {image!r} is not an")


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
