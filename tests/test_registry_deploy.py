"""From the registry to a cluster: a registered version carries its Triton model repository in
MLflow's artifact store, and `alexnet-kfp manifest --model models:/NAME@ALIAS` (and `deploy`) make
the InferenceService whose storageUri is that repository, optionally as a canary.

A real MLflow server whose artifact store is a real S3-compatible server (moto's, on 127.0.0.1),
the layout KServe's storage initializer would fetch; each manifest is checked against KServe's
InferenceService CRD."""

import os

import pytest
import yaml

from alexnet_kfp.export.model_repository import write_model_repository
from alexnet_kfp.files import file_digest
from alexnet_kfp.tracking.registry import MODEL_REPOSITORY_TAG, register

from .cli import run_cli
from .kserve_crd import validate
from .mlflow_server import MlflowServer
from .s3_server import S3Server

pytestmark = pytest.mark.integration

NAME, BUCKET = "alexnet-cifar10", "models"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s3 = S3Server(tmp_path_factory.mktemp("s3"), BUCKET).start()
    yield s3
    s3.stop()


@pytest.fixture(scope="module")
def registry(store, exported, tmp_path_factory):
    """An MLflow server whose clients write artifacts to the S3 store, with version 1 of NAME
    (alias candidate) registered with its model repository."""
    folder = tmp_path_factory.mktemp("registry")
    server = MlflowServer(
        folder / "mlflow", artifact_root=f"s3://{BUCKET}/mlflow", environment=store.environment
    ).start()
    repository = folder / "model_repository"
    write_model_repository(exported, repository)
    tags = {"onnx_sha256": file_digest(exported / "model.onnx")}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {**store.environment, "MLFLOW_TRACKING_URI": server.uri}.items():
            patch.setenv(key, value)
        registered = register(exported, NAME, "candidate", tags, "", repository)
    assert registered is not None and registered.version == 1
    yield server
    server.stop()


def _cli(server: MlflowServer, store: S3Server, *args: object):
    env = {**os.environ, **store.environment, "MLFLOW_TRACKING_URI": server.uri}
    return run_cli(*args, env=env, timeout=300)


def _one_line(done, *fragments: str) -> str:
    assert done.returncode == 2 and done.stdout == "", done
    (line,) = done.stderr.splitlines()
    assert all(fragment in line for fragment in fragments), line
    return line


def test_a_registered_version_is_served_from_its_repository_in_the_store(registry, store):
    version = registry.client().get_model_version_by_alias(NAME, "candidate")
    location = version.tags[MODEL_REPOSITORY_TAG]
    assert location.startswith(f"s3://{BUCKET}/mlflow/") and location.endswith("/model_repository")
    # the Triton layout KServe's storage initializer fetches, in the object store itself
    prefix = location.removeprefix(f"s3://{BUCKET}/") + "/"
    keys = {key.removeprefix(prefix) for key in store.keys(prefix)}
    assert {"alexnet/config.pbtxt", "alexnet/1/model.onnx", "alexnet_int8/1/model.onnx"} <= keys
    for uri in (f"models:/{NAME}@candidate", f"models:/{NAME}/1"):
        done = _cli(registry, store, "manifest", "--model", uri)
        assert done.returncode == 0, done.stderr
        manifest = yaml.safe_load(done.stdout)
        validate(manifest)
        predictor = manifest["spec"]["predictor"]
        assert predictor["model"]["storageUri"] == location
        assert "canaryTrafficPercent" not in predictor


@pytest.mark.parametrize("percent", [1, 20, 99])
def test_a_canary_gets_its_share_of_the_traffic(registry, store, percent):
    for flavour in ([], ["--custom", "--image", "ghcr.io/alexnet-kfp/alexnet-kfp:0.1.0"]):
        done = _cli(
            registry, store, "manifest", "--model", f"models:/{NAME}@candidate",
            "--canary-traffic-percent", percent, *flavour,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        manifest = yaml.safe_load(done.stdout)
        validate(manifest)
        assert manifest["spec"]["predictor"]["canaryTrafficPercent"] == percent


@pytest.mark.parametrize("percent", ["0", "100", "-5", "50.5", "ten", "1e2"])
def test_a_canary_outside_1_to_99_is_one_line_before_the_registry_is_asked(percent, tmp_path):
    # no registry at all: the percent is refused first
    env = {**os.environ, "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}
    for command in ("manifest", "deploy"):
        done = run_cli(
            command, "--model", f"models:/{NAME}@candidate", "--canary-traffic-percent", percent,
            env=env,
        )  # fmt: skip
        _one_line(done, "--canary-traffic-percent")


def test_an_alias_or_version_the_registry_lacks_is_one_line(registry, store):
    for uri, said in (
        (f"models:/{NAME}@production", "production"),
        (f"models:/{NAME}/7", "7"),
        ("models:/no-such-model@candidate", "no-such-model"),
    ):
        for command in ("manifest", "deploy"):
            _one_line(_cli(registry, store, command, "--model", uri), f"--model {uri}", said)


def test_a_version_registered_without_its_repository_is_one_line(registry, store, exported):
    tags = {"onnx_sha256": file_digest(exported / "model.onnx")}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {**store.environment, "MLFLOW_TRACKING_URI": registry.uri}.items():
            patch.setenv(key, value)
        bare = register(exported, "no-repository", "candidate", tags)
    assert bare is not None
    done = _cli(registry, store, "manifest", "--model", "models:/no-repository@candidate")
    _one_line(done, "registered without its model repository", MODEL_REPOSITORY_TAG)


def test_a_registry_whose_store_kserve_cannot_read_is_one_line(exported, tmp_path):
    # the default server proxies its artifacts (mlflow-artifacts:/...): no cluster can fetch those
    server = MlflowServer(tmp_path / "mlflow").start()
    try:
        repository = tmp_path / "model_repository"
        write_model_repository(exported, repository)
        tags = {"onnx_sha256": file_digest(exported / "model.onnx")}
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MLFLOW_TRACKING_URI", server.uri)
            assert register(exported, NAME, "candidate", tags, "", repository) is not None
        env = {**os.environ, "MLFLOW_TRACKING_URI": server.uri}
        done = run_cli("manifest", "--model", f"models:/{NAME}@candidate", env=env)
        _one_line(done, "cannot fetch", "--no-serve-artifacts --default-artifact-root s3://")
    finally:
        server.stop()


def test_deploy_without_a_cluster_says_so_in_one_line(registry, store, tmp_path):
    env = {
        **os.environ,
        **store.environment,
        "MLFLOW_TRACKING_URI": registry.uri,
        "KUBECONFIG": str(tmp_path / "none"),
        "HOME": str(tmp_path),
    }
    done = run_cli("deploy", "--model", f"models:/{NAME}@candidate", env=env, timeout=300)
    assert done.returncode == 1 and done.stdout == "", done
    (line,) = done.stderr.splitlines()
    assert line.startswith("alexnet-kfp deploy: FAILED: no Kubernetes cluster"), line
