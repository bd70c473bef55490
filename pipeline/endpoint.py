"""Where `submit` sends the pipeline, found the way `kfp.Client()` finds it, and said when it fails.

In order: `--host`; `$KF_PIPELINES_ENDPOINT`; inside a pod (a Kubeflow Notebook) the in-cluster API
service with the mounted pipelines service-account token (`$KF_PIPELINES_SA_TOKEN_PATH`); else the
kubeconfig's current context, through the Kubernetes API server's service proxy. The profile
namespace, when not given, is the pod's own (from the token) or the kubeconfig context's.

The kubeconfig way is done here rather than by `kfp.Client()` because kfp 2.17 keeps the
kubernetes client's token-refresh hook, which resets the host to the API server's root on every
request and so drops the service-proxy path (the requests then miss KFP).
"""

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from alexnet_kfp.errors import InputError

KFP_NAMESPACE = "kubeflow"  # where Kubeflow installs the KFP API service
SERVICE_PROXY = f"/api/v1/namespaces/{KFP_NAMESPACE}/services/ml-pipeline:http/proxy"
IN_CLUSTER_HOST = f"http://ml-pipeline.{KFP_NAMESPACE}.svc.cluster.local:8888"
SA_TOKEN_PATH = "/var/run/secrets/kubeflow/pipelines/token"  # kfp.client.KF_PIPELINES_SA_TOKEN_PATH
POD_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
FALLBACK_NAMESPACE = "kubeflow"
DEFAULT_TIMEOUT_S = 60.0  # a whole submission, the client's retries included


@dataclass
class Endpoint:
    host: str
    namespace: str
    how: str  # said in messages: which of the ways above applied
    sa_token_path: Path | None = None  # a pipelines service-account token to authenticate with
    token: str | None = None  # a kubeconfig user's bearer token
    ssl_ca_cert: str | None = None  # the kubeconfig cluster's CA

    def describe(self) -> str:
        return f"{self.host} ({self.how})"


def _sa_token_path() -> Path:
    return Path(os.environ.get("KF_PIPELINES_SA_TOKEN_PATH") or SA_TOKEN_PATH)


def _token_namespace(path: Path) -> str | None:
    """The namespace claim of a projected service-account token (a JWT), if it has one."""
    try:
        payload = path.read_text().strip().split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return claims.get("kubernetes.io", {}).get("namespace")
    except (OSError, IndexError, ValueError, AttributeError):
        return None


def _pod_namespace(token: Path) -> str | None:
    try:
        return POD_NAMESPACE_FILE.read_text().strip() or None
    except OSError:
        return _token_namespace(token)


def _kubeconfig() -> Path:
    return Path(os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)[0]).expanduser()


def _from_kubeconfig(path: Path, namespace: str | None) -> Endpoint:
    from kubernetes import client, config

    settings = client.Configuration()
    try:
        config.load_kube_config(config_file=str(path), client_configuration=settings)
        _, active = config.list_kube_config_contexts(str(path))
    except Exception as e:  # the kubernetes client raises many kinds for a bad file
        raise InputError(
            f"kubeconfig {path}: cannot use it ({type(e).__name__}: {e}); pass --host URL"
        ) from None
    bearer = settings.api_key.get("authorization", "")
    return Endpoint(
        settings.host.rstrip("/") + SERVICE_PROXY,
        namespace or active.get("context", {}).get("namespace") or FALLBACK_NAMESPACE,
        f"kubeconfig {path}",
        token=bearer.removeprefix("Bearer ").strip() or None,
        ssl_ca_cert=settings.ssl_ca_cert,
    )


def resolve(host: str | None, namespace: str | None) -> Endpoint:
    """The endpoint to use, or one line saying everything that was tried."""
    token = _sa_token_path()
    in_pod = bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and token.is_file()
    sa_token = token if token.is_file() else None
    if in_pod:
        namespace = namespace or _pod_namespace(token)
    if host or os.environ.get("KF_PIPELINES_ENDPOINT"):
        how = "--host" if host else "$KF_PIPELINES_ENDPOINT"
        return Endpoint(
            host or os.environ["KF_PIPELINES_ENDPOINT"],
            namespace or FALLBACK_NAMESPACE,
            how,
            sa_token,
        )
    if in_pod:
        return Endpoint(
            IN_CLUSTER_HOST, namespace or FALLBACK_NAMESPACE, f"in-cluster, token {token}", token
        )
    if _kubeconfig().is_file():
        return _from_kubeconfig(_kubeconfig(), namespace)
    raise InputError(
        "no Kubeflow Pipelines endpoint: tried --host, $KF_PIPELINES_ENDPOINT (unset), the "
        f"in-cluster service (needs $KUBERNETES_SERVICE_HOST and the token {token}: "
        f"{'found' if token.is_file() else 'missing'}) and the kubeconfig {_kubeconfig()} "
        "(missing); pass --host URL"
    )
