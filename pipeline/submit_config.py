"""`alexnet-kfp submit`'s configuration: where and how a run is created (its own values are the
pipeline parameters). Free of kfp, so that the CLI builds its flags in any install."""

import math
import os
from dataclasses import dataclass
from pathlib import Path

from alexnet_kfp.config import StepConfig, option
from alexnet_kfp.errors import InputError
from alexnet_kfp.pipeline.endpoint import DEFAULT_TIMEOUT_S


@dataclass
class SubmitConfig(StepConfig):
    """Where and how a run is created; the run's own values are its pipeline parameters."""

    host: str = option(
        "",
        "KFP API endpoint (default: $KF_PIPELINES_ENDPOINT; inside a Kubeflow Notebook the "
        "in-cluster service with the pod's pipelines token; else the kubeconfig's cluster)",
        metavar="URL",
    )
    namespace: str = option(
        "",
        "Kubeflow profile namespace (default: the notebook pod's own, or the kubeconfig "
        "context's, else kubeflow)",
        metavar="NS",
    )
    experiment: str = option("alexnet-kfp", "the KFP experiment", metavar="NAME")
    run_name: str = option("", "the run's name (default: chosen by KFP)", metavar="NAME")
    pipeline: str = option(
        "",
        "a compiled pipeline (e.g. from `alexnet-kfp compile --gpu-count 2`); default: the "
        "pipeline this installation carries, compiled afresh (pipeline.yaml's bytes)",
        metavar="FILE",
    )
    upload: bool = option(False, "also register the package as a pipeline version")
    token_env: str = option(
        "", "environment variable holding a bearer token (never printed)", metavar="NAME"
    )
    timeout_s: float = option(
        DEFAULT_TIMEOUT_S,
        "give up when the endpoint has not answered within this, retries included",
        flag="--timeout",
        metavar="SECONDS",
    )

    def check(self) -> "SubmitConfig":
        """Named as the flags: submit runs from a command line only."""
        if not 0 < self.timeout_s < math.inf:
            raise InputError(
                f"--timeout must be a positive number of seconds, got {self.timeout_s}"
            )
        if self.pipeline and not Path(self.pipeline).is_file():
            raise InputError(f"--pipeline {self.pipeline}: no such file")
        if self.token_env and not os.environ.get(self.token_env):
            raise InputError(
                f"--token-env {self.token_env}: that environment variable is empty or unset"
            )
        return self
