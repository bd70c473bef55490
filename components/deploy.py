"""The deploy component (optional, off by default): model repository artifact -> a KServe
InferenceService (Triton) created or updated in the cluster; the manifest sent is its output."""

from kfp.dsl import Artifact, Input, Model, Output

from alexnet_kfp.components import component


@component
def deploy_op(
    model_repository: Input[Model], name: str, namespace: str, inference_service: Output[Artifact]
):
    """Create or update the InferenceService `name` (in `namespace`, empty: the pod's own) serving
    the model repository with KServe's Triton runtime. Needs RBAC on inferenceservices
    (docs/serving.md)."""
    from alexnet_kfp.process import one_line_errors, setup
    from alexnet_kfp.progress import finished

    setup("deploy")
    import yaml

    from alexnet_kfp.deploy.apply import DeployError, deploy, manifest_for

    with one_line_errors("deploy", DeployError):
        # The one place that reads .uri instead of .path: KServe's storage initializer fetches the
        # repository from the object store, where this pod's local copy means nothing.
        manifest = manifest_for(model_repository.uri, name, namespace)
        with open(inference_service.path, "w") as f:
            yaml.safe_dump(manifest, f, sort_keys=False)
        outcome = deploy(manifest)
    inference_service.metadata.update(
        {
            "name": name,
            "namespace": manifest["metadata"].get("namespace", ""),
            "storage_uri": manifest["spec"]["predictor"]["model"]["storageUri"],
            "outcome": outcome,
        }
    )
    finished("deploy", inference_service=inference_service.path)
