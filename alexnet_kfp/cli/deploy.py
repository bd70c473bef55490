"""`alexnet-kfp manifest` and `deploy`: a KServe InferenceService for a model repository, given
where it lies (--storage-uri) or as a registered version (--model models:/NAME@ALIAS, whose
repository the register step logged beside the models), optionally as a canary."""

import argparse
import sys

from alexnet_kfp.cli.options import command, integer_argument, option
from alexnet_kfp.deploy.manifests import DEFAULT_NAME
from alexnet_kfp.errors import InputError

# How to give KServe a registry it can read from: the tracking server's artifacts in an object
# store the cluster reaches, written there by the clients themselves.
_READABLE_STORE = (
    "run the tracking server with its artifacts in an object store the cluster reads (mlflow "
    "server --no-serve-artifacts --default-artifact-root s3://BUCKET/PATH) and register again"
)


def _storage_uri(args: argparse.Namespace) -> str:
    """The storageUri: --storage-uri as given, or where --model's model repository lies."""
    if args.model is None:
        return args.storage_uri
    from alexnet_kfp.deploy.manifests import storage_uri_for
    from alexnet_kfp.tracking.registered_model import model_repository_of

    version, location = model_repository_of(args.model)
    try:
        return storage_uri_for(location)
    except InputError:
        raise InputError(
            f"--model {args.model}: version {version}'s model repository is at {location}, which "
            f"KServe's storage initializer cannot fetch; {_READABLE_STORE}"
        ) from None


def _manifest(args: argparse.Namespace) -> dict:
    from alexnet_kfp.deploy.manifests import check_canary, custom_service, triton_service

    check_canary(args.canary_traffic_percent)  # before the registry is asked
    where, canary = _storage_uri(args), args.canary_traffic_percent
    if args.custom:
        return custom_service(where, args.image, args.name, args.namespace, canary)
    return triton_service(where, args.name, args.namespace, canary)


def _cmd_manifest(args: argparse.Namespace) -> int:
    """Print an InferenceService (YAML) serving a model repository: by default with KServe's
    Triton runtime (modelFormat onnx, protocol v2); with --custom, the project image running
    `alexnet-kfp serve`. --model models:/NAME@ALIAS serves the registered version's repository
    (MLFLOW_TRACKING_URI names the registry); --canary-traffic-percent N sends it N% of the
    traffic of a running service and the last ready model the rest. Apply it with kubectl."""
    import yaml

    sys.stdout.write(yaml.safe_dump(_manifest(args), sort_keys=False))
    return 0


def _cmd_deploy(args: argparse.Namespace) -> int:
    """Create, or update, the InferenceService that `manifest` prints with the same flags, in the
    cluster of the kubeconfig (or the pod's service account), through KServe's client."""
    from alexnet_kfp.deploy.apply import DeployError, deploy

    manifest = _manifest(args)
    try:
        outcome = deploy(manifest)
    except DeployError as e:
        print(f"alexnet-kfp deploy: FAILED: {e}", file=sys.stderr)
        return 1
    predictor = manifest["spec"]["predictor"]
    share = predictor.get("canaryTrafficPercent")
    print(
        f"{outcome} InferenceService {manifest['metadata']['name']}"
        + (f": the new model gets {share}% of the traffic" if share else "")
    )
    return 0


def _flags(p: argparse.ArgumentParser) -> None:
    model = p.add_mutually_exclusive_group(required=True)
    where = "where the model repository is: s3://, gs://, pvc://, https://, ... (minio:// is s3://)"
    model.add_argument("--storage-uri", metavar="URI", help=where)
    registered = "a registered version, models:/NAME@ALIAS or models:/NAME/VERSION: its model "
    registered += "repository in MLflow's artifact store (MLFLOW_TRACKING_URI's registry)"
    model.add_argument("--model", metavar="MODEL_URI", help=registered)
    canary = "serve the new model as a canary with this share of the traffic (1-99); the last "
    canary += "ready model keeps the rest (default: all of it to the new model)"
    p.add_argument("--canary-traffic-percent", type=integer_argument, metavar="N", help=canary)
    option(p, "--name", DEFAULT_NAME, "InferenceService name")
    p.add_argument("--namespace", help="namespace (default: kubectl's)")
    custom = "a custom predictor with the project image instead of Triton"
    p.add_argument("--custom", action="store_true", help=custom)
    p.add_argument("--image", metavar="IMAGE", help="the project image, for --custom")


def add(sub) -> None:
    help_text = "print a KServe InferenceService for a model repository or a registered version"
    _flags(command(sub, _cmd_manifest, help_text))
    help_text = "create or update such an InferenceService in a cluster, with KServe's client"
    _flags(command(sub, _cmd_deploy, help_text))
