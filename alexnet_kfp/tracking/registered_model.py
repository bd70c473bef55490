"""`models:/NAME@ALIAS` or `models:/NAME/VERSION` as a local export directory (`predict --model`,
`serve --model`): looked up in the registry of MLFLOW_TRACKING_URI, downloaded once per server
and version, and checked against the version's recorded sha256 every time it is used.

The cache is keyed by the tracking server (its URI, normalised) as well as the name and version:
two servers may each hold a version 1 of the same name, and one must never answer for the other.
Everything the registry says is checked before it becomes a path (a version is a whole number)
or is trusted (the files are the model the version was registered with), and the lookups and the
download each have a deadline for the whole of it, not per read: a server that trickles its
answer is given up like a silent one.
"""

import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from alexnet_kfp.data.fetch import default_cache_dir
from alexnet_kfp.errors import InputError
from alexnet_kfp.files import file_digest
from alexnet_kfp.tracking.environment import (
    INSTALL_HINT,
    TRACKING_URI,
    check_tracking_uri,
    tracking_uri,
)
from alexnet_kfp.tracking.registry import MODEL_REPOSITORY_TAG
from alexnet_kfp.tracking.session import bound_requests, first_line
from alexnet_kfp.untrusted import whole_number

T = TypeVar("T")

# The registry's answers about a version (a few small requests), and its files (the two ONNX
# models and the model repository, about 130 MB): each as a whole, however the server answers.
LOOKUP_DEADLINE_S = 30.0
DOWNLOAD_DEADLINE_S = 600.0
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
_MODEL_URI = re.compile(rf"models:/({_NAME})(?:@([A-Za-z0-9_-]{{1,255}})|/([1-9][0-9]{{0,17}}))")
_DEFAULT_PORTS = {"http": 80, "https": 443}
CHECKSUM_TAG = "onnx_sha256"  # registration_tags records the float32 model's sha256 under it
# the float32 model's file, as log_onnx_models lays it out (inference.FLOAT_FILE, a layer above)
FLOAT_FILE = "model.onnx"


def server_key(uri: str) -> str:
    """The tracking server `uri` names, normalised (scheme and host in lower case, no default
    port, credentials, query or trailing slash): one server, one cache."""
    parts = urlsplit(uri.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return uri.strip().rstrip("/")
    host = (parts.hostname or "").lower()
    port = parts.port if parts.port not in (None, _DEFAULT_PORTS[scheme]) else None
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{netloc}{f':{port}' if port else ''}{parts.path.rstrip('/')}"


def cache_folder(server: str, name: str, version: int) -> Path:
    """Where version `version` of `name` from `server` (server_key) is kept."""
    digest = hashlib.sha256(server.encode()).hexdigest()[:16]
    return default_cache_dir() / "registered-models" / digest / name / f"v{version}"


def local_model(uri: str) -> Path:
    """The export directory `uri` names, from the registry of MLFLOW_TRACKING_URI, downloaded
    once per server and version and checked against the version's sha256 each time; one line
    when the URI, the registry, the extra or the files are wrong."""
    subject = f"--model {uri}"
    client, name, version, tags = _registered(uri)
    expected = _checksum(name, version, tags)
    folder = cache_folder(server_key(client.tracking_uri), name, version)
    from mlflow.exceptions import MlflowException

    try:
        if _holds(folder, expected):
            return folder
        fetch = lambda: _download(name, version, folder)  # noqa: E731
        within(DOWNLOAD_DEADLINE_S, subject, "the download", fetch)
    except MlflowException as e:
        raise registry_failure(subject, e) from None
    except OSError as e:
        raise InputError(f"--model {uri}: {e.strerror or e}") from None
    if not _holds(folder, expected):
        shutil.rmtree(folder, ignore_errors=True)
        raise InputError(
            f"--model {uri}: the registry's files are not the model version {version} was "
            f"registered with (its {FLOAT_FILE} does not have the recorded sha256 {expected})"
        )
    return folder


def model_repository_of(uri: str) -> tuple[int, str]:
    """(The version `uri` names, where its Triton model repository lies in the artifact store, as
    the version's MODEL_REPOSITORY_TAG records it), or one line: a URI, registry or version that
    is wrong, or a version registered without its model repository."""
    _, name, version, tags = _registered(uri)
    _checksum(name, version, tags)  # a version alexnet-kfp registered
    location = tags.get(MODEL_REPOSITORY_TAG, "").strip()
    if not location:
        raise InputError(
            f"--model {uri}: version {version} was registered without its model repository (no "
            f"{MODEL_REPOSITORY_TAG} tag): register the run again with this alexnet-kfp"
        )
    return version, location


def _registered(uri: str) -> tuple[Any, str, int, dict[str, str]]:
    """(the registry's client, the name, the version `uri` names, its tags), looked up within
    LOOKUP_DEADLINE_S; one line when the URI, the registry or its answer is wrong."""
    name, alias, given = _parsed(uri)
    subject = f"--model {uri}"
    client = registry_client(subject)
    from mlflow.exceptions import MlflowException

    try:
        look_up = lambda: _lookup(client, name, alias, given)  # noqa: E731
        version, tags = within(LOOKUP_DEADLINE_S, subject, "the registry's answer", look_up)
    except MlflowException as e:
        raise registry_failure(subject, e) from None
    except OSError as e:
        raise InputError(f"--model {uri}: {e.strerror or e}") from None
    return client, name, version, tags


def _parsed(uri: str) -> tuple[str, str | None, str | None]:
    """(name, alias, version) of models:/NAME@ALIAS or models:/NAME/VERSION, or one line."""
    found = _MODEL_URI.fullmatch(uri)
    if not found:
        raise InputError(
            f"--model {uri}: expected models:/NAME@ALIAS or models:/NAME/VERSION (a registered "
            "model of MLflow's registry)"
        )
    name, alias, given = found.groups()
    return name, alias, given


def registry_client(subject: str):
    """An MlflowClient of MLFLOW_TRACKING_URI's registry (the URI checked, requests bounded), or
    one line starting with `subject` when there is no URI or no mlflow."""
    uri = tracking_uri()
    if uri is None:
        raise InputError(
            f"{subject}: set {TRACKING_URI} to the MLflow server whose registry holds it"
        )
    check_tracking_uri(uri, TRACKING_URI)
    try:
        from mlflow import MlflowClient
    except ImportError:
        raise InputError(f"{subject} needs the tracking extra: {INSTALL_HINT}") from None
    bound_requests()
    return MlflowClient(uri)


def registry_failure(subject: str, error) -> InputError:
    """An MlflowException of the registry's as one line starting with `subject`."""
    said = first_line(str(error.message), "unknown error")
    if "Max retries exceeded" in said or "ConnectionError" in said:
        said = f"cannot reach the MLflow tracking server at {tracking_uri()} ({TRACKING_URI})"
    return InputError(f"{subject}: {said}")


def _lookup(client, name: str, alias: str | None, given: str | None) -> tuple[int, dict[str, str]]:
    """(the version, its tags), the version checked before it is used."""
    answer = client.get_model_version_by_alias(name, alias) if alias else None
    text = str(answer.version) if answer is not None else str(given)
    version = whole_number(text, f"the registry's version for {name}@{alias}")
    if version < 1:
        raise InputError(f"the registry's version for {name}@{alias} is 0")
    details = answer or client.get_model_version(name, str(version))
    return version, {str(k): str(v) for k, v in (details.tags or {}).items()}


def _checksum(name: str, version: int, tags: dict[str, str]) -> str:
    """The float32 model's sha256 the version records, or one line: not alexnet-kfp's."""
    expected = tags.get(CHECKSUM_TAG, "")
    if not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise InputError(
            f"models:/{name}/{version} has no {CHECKSUM_TAG} tag: not a version alexnet-kfp "
            "registered, so its files cannot be checked"
        )
    return expected


def _holds(folder: Path, expected: str) -> bool:
    """Whether `folder` is a finished download whose float32 model has the sha256 `expected`."""
    model = folder / FLOAT_FILE
    return (folder / "MLmodel").is_file() and model.is_file() and file_digest(model) == expected


def _download(name: str, version: int, folder: Path) -> None:
    """The version's files into `folder`, whole or not at all (a bad copy there is replaced)."""
    import mlflow.artifacts

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=folder.parent))
    try:
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{name}/{version}", dst_path=str(staging)
        )
        shutil.rmtree(folder, ignore_errors=True)
        try:
            os.replace(staging, folder)
        except OSError:  # another process put its own copy there meanwhile: checked after
            if not (folder / "MLmodel").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def within(seconds: float, subject: str, what: str, action: Callable[[], T]) -> T:
    """`action()`'s result, or one line starting with `subject` when it takes more than
    `seconds` as a whole (it goes on in a daemon thread, which ends with the process) or raises
    an InputError."""
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["value"] = action()
        except BaseException as e:  # handed to the caller's thread
            result["error"] = e

    worker = threading.Thread(target=run, name=f"registry: {what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise InputError(
            f"{subject}: {what} took more than {seconds:.0f} s from {tracking_uri()} "
            f"({TRACKING_URI}); try again when it answers"
        )
    if "error" in result:
        error = result["error"]
        if isinstance(error, InputError):
            raise InputError(f"{subject}: {error}") from None
        raise error  # type: ignore[misc]
    return result["value"]  # type: ignore[return-value]
