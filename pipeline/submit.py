"""`alexnet-kfp submit`: send the compiled pipeline to a Kubeflow Pipelines endpoint.

Every failure a person can fix becomes one line: an unreachable or silent host, a rejected token,
an answer that is not the KFP API's, an unknown parameter or a value the steps would refuse. The
token is read from an environment variable and never printed.
"""

import logging
import os
import tempfile
import threading
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from alexnet_kfp.errors import InputError
from alexnet_kfp.pipeline import endpoint
from alexnet_kfp.pipeline.arguments import (
    check_arguments,
    compiled_halving,
    declared_parameters,
    parse_parameters,
)
from alexnet_kfp.pipeline.compile import compile_pipeline
from alexnet_kfp.pipeline.submit_config import SubmitConfig


@dataclass(frozen=True)
class Submitted:
    """The run a submission created: its id, its page in the KFP UI (None behind the service
    proxy), where and with what."""

    run_id: str
    url: str | None
    namespace: str | None
    endpoint: str
    arguments: dict[str, object]


def submit(config: SubmitConfig, parameter_pairs: list[str]) -> Submitted:
    """Create a run of `config.pipeline` (default: the installed pipeline, compiled afresh) with the
    `KEY=VALUE` parameters, after checking them as the steps will."""
    config.check()
    target = endpoint.resolve(config.host or None, config.namespace or None)
    if not config.pipeline:  # the installed pipeline, from any directory
        with tempfile.TemporaryDirectory() as scratch:
            compiled = Path(scratch) / "pipeline.yaml"
            compile_pipeline(compiled)
            return submit(replace(config, pipeline=str(compiled)), parameter_pairs)
    pipeline_yaml = Path(config.pipeline)
    declared = declared_parameters(pipeline_yaml)
    arguments = parse_parameters(parameter_pairs, declared)
    check_arguments(arguments, declared, halving=compiled_halving(pipeline_yaml))
    namespace = target.namespace
    token = os.environ.get(config.token_env) if config.token_env else None
    experiment, run_name, upload = config.experiment, config.run_name or None, config.upload
    timeout_s = config.timeout_s

    import kfp
    from kfp.client.set_volume_credentials import ServiceAccountTokenVolumeCredentials

    credentials = None
    if token is None and target.sa_token_path is not None:  # as kfp.Client() does inside a pod
        credentials = ServiceAccountTokenVolumeCredentials(str(target.sa_token_path))
    host = target.describe()

    def send():
        client = kfp.Client(
            host=target.host,
            namespace=namespace,
            existing_token=token or target.token,
            credentials=credentials,
            ssl_ca_cert=target.ssl_ca_cert,
        )
        if upload:
            _upload(client, pipeline_yaml, run_name or pipeline_yaml.stem)
        return client.create_run_from_pipeline_package(
            str(pipeline_yaml),
            arguments=arguments,
            run_name=run_name,
            experiment_name=experiment,
            namespace=namespace,
        )

    try:
        run = _within(timeout_s, send)
    except Exception as e:
        raise _no_run(e, host, namespace, timeout_s) from None
    run_id = getattr(run, "run_id", None)
    if not isinstance(run_id, str) or not run_id:
        raise InputError(
            f"{host} answered without a run id, so no run was created; check --host (a login page "
            "in front of Kubeflow, or not the KFP API?)"
        )
    url = (
        None
        if target.host.endswith(endpoint.SERVICE_PROXY)
        else f"{target.host.rstrip('/')}/#/runs/details/{run_id}"
    )
    return Submitted(run_id, url, namespace, host, arguments)


class _NoAnswer(Exception):
    pass


def _no_run(error: Exception, host: str, namespace: str | None, timeout_s: float) -> InputError:
    """The one line for a submission that created no run: what went wrong, and what to check."""
    import urllib3
    from kfp_server_api.exceptions import ApiException

    if isinstance(error, _NoAnswer):
        return InputError(
            f"Kubeflow Pipelines at {host} did not answer within {timeout_s:g} s; check --host "
            "and that the KFP API (not a proxy that holds the connection) is there"
        )
    if isinstance(error, urllib3.exceptions.MaxRetryError):
        return InputError(
            f"cannot reach Kubeflow Pipelines at {host}: {error.reason}; check --host and your "
            "network"
        )
    if isinstance(error, TimeoutError):
        # kfp.Client's health check (made for the namespace "kubeflow") gave up
        return InputError(
            f"Kubeflow Pipelines at {host} failed its health check ({error}); check --host, the "
            "token and that this is the KFP API endpoint"
        )
    if isinstance(error, ApiException) and error.status in (401, 403):
        return InputError(
            f"Kubeflow Pipelines at {host} refused the request (HTTP {error.status} "
            f"{error.reason}); check the token (--token-env) and your access to namespace "
            + repr(namespace)
        )
    if isinstance(error, ApiException):
        return InputError(
            f"Kubeflow Pipelines at {host} answered HTTP {error.status} {error.reason}: "
            f"{' '.join((error.body or '').split())[:200]}"
        )
    # the client could not make sense of the answer (HTML, bad JSON, ...)
    return InputError(
        f"{host} gave an answer that is not the Kubeflow Pipelines API's "
        f"({type(error).__name__}); check --host (a login page in front of Kubeflow?)"
    )


def _within(seconds: float, call):
    """call() with an overall deadline, its retries included, and without the kfp client's own noise
    (a FutureWarning, and a logged traceback for every retried health check)."""
    outcome: dict = {}

    def work():
        try:
            outcome["value"] = call()
        except BaseException as e:  # handed to the caller's thread
            outcome["error"] = e

    worker = threading.Thread(
        target=work, daemon=True
    )  # a hung socket must not keep the process alive
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            worker.start()
            worker.join(seconds)
    finally:
        logging.disable(logging.NOTSET)
    if worker.is_alive():
        raise _NoAnswer()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _upload(client, pipeline_yaml: Path, version_name: str) -> None:
    """Register the package as a new version of the pipeline (creating the pipeline the first
    time)."""
    from alexnet_kfp.pipeline.pipeline import PIPELINE_NAME

    pipeline_id = client.get_pipeline_id(PIPELINE_NAME)
    if pipeline_id is None:
        client.upload_pipeline(str(pipeline_yaml), pipeline_name=PIPELINE_NAME)
    else:
        client.upload_pipeline_version(
            str(pipeline_yaml), pipeline_version_name=version_name, pipeline_id=pipeline_id
        )
