"""What tells a step to track, and where: the MLflow environment variables this project reads."""

import os
from collections.abc import Iterable
from urllib.parse import urlsplit

from alexnet_kfp.errors import InputError
from alexnet_kfp.extras import install_hint

TRACKING_URI = "MLFLOW_TRACKING_URI"
# The task's own run, made by KFP's MLflow plugin: the step logs into it and leaves it open.
RUN_ID = "MLFLOW_RUN_ID"
EXPERIMENT_ID = "MLFLOW_EXPERIMENT_ID"
EXPERIMENT_NAME = "MLFLOW_EXPERIMENT_NAME"
# `alexnet-kfp run --mlflow`'s pipeline run: each step's run is nested under it, as the plugin does.
PARENT_RUN_ID = "ALEXNET_KFP_MLFLOW_PARENT_RUN_ID"
DEFAULT_EXPERIMENT = "alexnet-kfp"
INSTALL_HINT = install_hint(["tracking"])


# The task's input parameters, which KFP's MLflow plugin logs into the task's run when the task
# ends, as JSON ("\"cifar\"", "true", "0.00001": backend/src/v2/common/plugins/mlflow/handler.go,
# mapToParams, 2.17.0). MLflow refuses a parameter logged twice with two values, and refuses the
# whole batch with it: a step that logged these names itself would cost the run KFP's own record.
_LOGGED_BY_KFP: set[str] = set()


def kfp_logs_inputs(names: Iterable[str]) -> None:
    """Called by a component with its inputs' names: in a run KFP's plugin gave the task
    (MLFLOW_RUN_ID), the step leaves these parameters to KFP."""
    _LOGGED_BY_KFP.update(names)


def logged_by_kfp() -> frozenset[str]:
    return frozenset(_LOGGED_BY_KFP)


def tracking_uri() -> str | None:
    """The MLflow tracking URI this process was given, or None (then nothing is logged)."""
    return os.environ.get(TRACKING_URI, "").strip() or None


def is_model_uri(text: str) -> bool:
    """A registered model's URI (`models:/NAME@ALIAS` or `models:/NAME/VERSION`), not a path."""
    return text.startswith("models:/")


# A tracking server's URL, or one of MLflow's database store URIs (which need the whole mlflow
# package). Not `file:`: MLflow 3 refuses its file store unless told to allow it, and it holds
# no logged models.
_SCHEMES = ("http", "https", "sqlite", "postgresql", "mysql", "mssql", "databricks")


def tracking_uri_problem(uri: str, what: str) -> str:
    """Why `uri` is no tracking URI MLflow will read as one ("": it is)."""
    scheme = urlsplit(uri.strip()).scheme
    if scheme == "file" or (not scheme and uri.strip()):
        return (
            f"{what} {uri!r}: MLflow 3 keeps no runs in a folder (its file store is retired); "
            "give a tracking server's URL (e.g. http://127.0.0.1:5000) or a database, e.g. "
            "sqlite:///mlflow.db"
        )
    if scheme not in _SCHEMES or not uri.strip().removeprefix(f"{scheme}:").strip("/"):
        return (
            f"{what} {uri!r}: expected a tracking server's URL (e.g. http://127.0.0.1:5000) or a "
            f"store URI ({', '.join(s + ':' for s in _SCHEMES[2:])})"
        )
    return ""


def check_tracking_uri(uri: str, what: str = "--mlflow") -> str:
    """A tracking URI MLflow will read as one, or one line: a bare word would become a folder of
    that name in the working directory, which tracks nothing anyone will find."""
    if problem := tracking_uri_problem(uri, what):
        raise InputError(problem)
    return uri.strip()
