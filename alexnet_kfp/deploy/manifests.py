"""KServe InferenceService manifests for the exported model, as plain dicts (YAML on output):

- `triton_service`: KServe's default way to serve `modelFormat: onnx`, the kserve-tritonserver
  runtime loading the model repository (model_repository.py) from `storage_uri`;
- `custom_service`: the project image running `alexnet-kfp serve` as a custom predictor, the
  model repository fetched to /mnt/models by KServe's storage initializer (STORAGE_URI).
Both speak the Open Inference Protocol v2 and run as a non-root user with no privileges. Resources:
1 CPU / 1 GiB requested, 2 / 2 GiB at most; `alexnet-kfp serve` peaked at 390 MiB with both models
answering batches of 256 (the Triton runtime's own default is 2 GiB). The tests validate both
manifests against KServe's own InferenceService CRD schema.
"""

import re
import urllib.parse

from alexnet_kfp.errors import InputError
from alexnet_kfp.k8s_names import (
    check_image,
    check_namespace,
    check_service_name,
    is_subdomain_name,
)

API_VERSION, KIND = "serving.kserve.io/v1beta1", "InferenceService"
DEFAULT_NAME = "alexnet-cifar10"
TRITON_RUNTIME = "kserve-tritonserver"
NON_ROOT_UID = 1000  # the project image's user, and the uid the Triton runtime declares
RESOURCES = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}
STORAGE_SCHEMES = ("s3://", "gs://", "pvc://", "https://", "hf://", "oci://", "azure://")


def _security_context() -> dict:
    return {
        "runAsNonRoot": True,
        "runAsUser": NON_ROOT_UID,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def check_name(name: str) -> None:
    check_service_name(name)


def storage_uri_for(uri: str) -> str:
    """A URI KServe's storage initializer can fetch. Kubeflow Pipelines names artifacts in its MinIO
    `minio://bucket/key`; MinIO speaks S3, so that becomes `s3://bucket/key` (the InferenceService's
    service account then needs the S3 endpoint and credentials: docs/serving.md)."""
    if uri.startswith("minio://"):
        uri = "s3://" + uri[len("minio://") :]
    if not uri.startswith(STORAGE_SCHEMES) or not uri.split("://", 1)[1].strip("/"):
        raise InputError(
            f"storage URI {uri!r} must start with one of {', '.join(STORAGE_SCHEMES)} (or minio://)"
        )
    problem = _location_problem(uri)
    if problem:
        raise InputError(f"storage URI {uri!r}: {problem}")
    return uri


# Bucket names as S3 (and MinIO) and Google Cloud Storage take them.
_S3_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_GCS_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")


def _location_problem(uri: str) -> str | None:
    """What makes `uri` (of a known scheme) a place KServe's storage initializer cannot fetch
    from, or None: blanks or control characters, `.` or `..` path segments (a PVC's path must stay
    in the claim), an empty or invalid bucket, claim or host, no path where one is needed."""
    if any(c.isspace() or not c.isprintable() for c in uri):
        return "it holds a space, a line break or another control character"
    scheme, rest = uri.split("://", 1)
    host, _, path = rest.partition("/")
    if {".", ".."} & set(path.split("/")):
        return "'.' and '..' are not path segments of a storage location"
    if scheme == "s3" and not _S3_BUCKET.fullmatch(host):
        return f"{host!r} is not an S3 bucket name (3-63 lower-case letters, digits, '.' and '-')"
    if scheme == "gs" and not _GCS_BUCKET.fullmatch(host):
        return f"{host!r} is not a Cloud Storage bucket name (lower case, 3-222 characters)"
    if scheme == "pvc" and not is_subdomain_name(host):
        return f"{host!r} is not a PersistentVolumeClaim name (lower case, digits, '-', '.')"
    if scheme == "https":
        parts = urllib.parse.urlsplit(uri)
        try:
            parts.port  # noqa: B018 (it raises for a port out of range)
        except ValueError:
            return "its port is not a number from 1 to 65535"
        if not parts.hostname or not parts.path.strip("/"):
            return "it needs a host and the model repository's path, e.g. https://host/models/x"
    if scheme in ("hf", "oci", "azure") and not (host and path.strip("/")):
        return f"it needs both parts of {scheme}://{'ORG/MODEL' if scheme == 'hf' else 'HOST/PATH'}"
    return None


def check_canary(percent: int | None) -> None:
    """A canary's share of the traffic: 1-99 percent (None: no canary, the whole of it)."""
    if percent is not None and not 1 <= percent <= 99:
        raise InputError(
            f"--canary-traffic-percent must be between 1 and 99, got {percent} (leave it out to "
            "send all the traffic to the new model)"
        )


def _service(name: str, namespace: str | None, canary: int | None, **predictor) -> dict:
    """The InferenceService around `predictor`; with `canary`, KServe's canaryTrafficPercent:
    applied over a running service, the new model gets that share of the traffic and the last
    ready one the rest, until the service is applied again without it."""
    check_name(name)
    check_canary(canary)
    if namespace:
        check_namespace(namespace)
    metadata = {
        "name": name,
        "labels": {
            "app.kubernetes.io/name": "alexnet-kfp",
            "app.kubernetes.io/component": "predictor",
        },
    }
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": metadata,
        "spec": {
            "predictor": {
                "minReplicas": 1,
                **({"canaryTrafficPercent": canary} if canary is not None else {}),
                **predictor,
            }
        },
    }


def triton_service(
    storage_uri: str,
    name: str = DEFAULT_NAME,
    namespace: str | None = None,
    canary: int | None = None,
) -> dict:
    """Triton (KServe's ONNX runtime) serving every model of the repository at `storage_uri`."""
    return _service(
        name,
        namespace,
        canary,
        model={
            "modelFormat": {"name": "onnx", "version": "1"},
            "runtime": TRITON_RUNTIME,
            "protocolVersion": "v2",
            "storageUri": storage_uri_for(storage_uri),
            "resources": RESOURCES,
            "securityContext": _security_context(),
        },
    )


def custom_service(
    storage_uri: str,
    image: str,
    name: str = DEFAULT_NAME,
    namespace: str | None = None,
    canary: int | None = None,
) -> dict:
    """The project image as a custom predictor: `alexnet-kfp serve` on the REST port KServe routes
    to."""
    if not image:
        raise InputError(
            "a custom predictor needs the project image (e.g. "
            "ghcr.io/alexnet-kfp/alexnet-kfp:0.1.0)"
        )
    check_image(image, "--image")
    return _service(
        name,
        namespace,
        canary,
        containers=[
            {
                "name": "kserve-container",
                "image": image,
                "command": [
                    "alexnet-kfp",
                    "serve",
                    "--model",
                    "/mnt/models",
                    "--http-port",
                    "8080",
                    "--grpc-port",
                    "8081",
                ],
                "env": [{"name": "STORAGE_URI", "value": storage_uri_for(storage_uri)}],
                "ports": [{"name": "http1", "containerPort": 8080, "protocol": "TCP"}],
                "readinessProbe": {
                    "httpGet": {"path": "/v2/health/ready", "port": 8080},
                    "periodSeconds": 5,
                },
                "resources": RESOURCES,
                "securityContext": _security_context(),
            }
        ],
    )
