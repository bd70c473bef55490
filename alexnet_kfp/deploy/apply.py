"""The pipeline's optional deploy step: create, or replace, the InferenceService that serves the
run's model repository, through KServe's Python client (its Kubernetes custom-objects API).

Inside a cluster it uses the pod's service account; elsewhere the kubeconfig. What that account
needs (docs/serving.md): get, create and update on inferenceservices.serving.kserve.io
in the target namespace. `manifest_for` is the exact object sent; the tests validate it against
KServe's CRD schema, since no cluster is reachable from the machines that build this project.
"""

from alexnet_kfp.deploy.manifests import triton_service
from alexnet_kfp.errors import InputError
from alexnet_kfp.extras import install_hint

PLURAL = "inferenceservices"


class DeployError(RuntimeError):
    """The cluster refused or could not be reached."""


def manifest_for(artifact_uri: str, name: str, namespace: str | None) -> dict:
    """The Triton InferenceService for a model repository artifact (its object-store URI)."""
    return triton_service(artifact_uri, name, namespace or None)


def _namespace(manifest: dict) -> str:
    from kserve.utils import utils

    return manifest["metadata"].get("namespace") or utils.get_default_target_namespace()


def deploy(manifest: dict) -> str:
    """Create the InferenceService, or replace the one of that name; return "created" or
    "updated"."""
    try:
        from kserve import KServeClient
        from kubernetes.client.rest import ApiException
    except ImportError as e:
        raise InputError(
            f"deploying needs the `serve` extra ({e}): {install_hint(['serve'])}"
        ) from None
    try:
        api = KServeClient().api_instance
    except Exception as e:  # no in-cluster account and no kubeconfig
        raise DeployError(
            f"no Kubernetes cluster to deploy to ({type(e).__name__}: {str(e).strip()[:200]})"
        ) from None
    group, version = manifest["apiVersion"].split("/")
    name, namespace = manifest["metadata"]["name"], _namespace(manifest)
    where = f"InferenceService {namespace}/{name}"
    try:
        try:
            current = api.get_namespaced_custom_object(group, version, namespace, PLURAL, name)
        except ApiException as e:
            if e.status != 404:
                raise
            api.create_namespaced_custom_object(group, version, namespace, PLURAL, manifest)
            return "created"
        body = {
            **manifest,
            "metadata": {
                **manifest["metadata"],
                "resourceVersion": current["metadata"]["resourceVersion"],
            },
        }
        api.replace_namespaced_custom_object(group, version, namespace, PLURAL, name, body)
        return "updated"
    except ApiException as e:
        hint = (
            (
                ": the pipeline's service account needs get/create/update on "
                "inferenceservices.serving.kserve.io there (docs/serving.md)"
            )
            if e.status == 403
            else ""
        )
        raise DeployError(f"{where}: the cluster said {e.status} {e.reason}{hint}") from None
