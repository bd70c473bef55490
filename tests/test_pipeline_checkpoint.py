"""The train task survives losing its pod: it is retried, and it checkpoints every epoch into the
run's KFP workspace, which a retried pod mounts again. Held against what the backend does with our
YAML (kfp_backend.py: the workspace from 2.15.0, retries from 2.5.0), and run for real by
kfp.local, whose workspace the train task writes its checkpoint into."""

import pytest
import yaml

from .cli import run_cli
from .kfp_backend import (
    BACKENDS,
    RejectedByBackend,
    at_least,
    constant_in_pod,
    retries,
    workspace_size,
)
from .real_data import REPO

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def committed() -> list[dict]:
    return list(yaml.safe_load_all((REPO / "pipeline.yaml").read_text()))


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_train_pod_finds_its_checkpoint_again_from_2_15(committed, backend):
    if not at_least(backend, "2.14.0"):
        with pytest.raises(RejectedByBackend):
            constant_in_pod(committed, "train-op", "checkpoint_dir", backend)
        return
    if not at_least(backend, "2.15.0"):  # 2.14.x: neither resolved nor mounted (train says so)
        assert constant_in_pod(committed, "train-op", "checkpoint_dir", backend).startswith("{{$.")
        assert workspace_size(committed, backend) is None
        return
    path = constant_in_pod(committed, "train-op", "checkpoint_dir", backend)
    assert path == "/kfp-workspace/train-checkpoint"  # the same in every retry of the run
    assert workspace_size(committed, backend) == "2Gi"
    assert retries(committed, "train-op", backend) == 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_without_checkpoint_every_backend_takes_it_and_retries_from_2_5(tmp_path, backend):
    out = tmp_path / "pipeline.yaml"
    result = run_cli("compile", "--output", out, "--no-checkpoint", timeout=300)
    assert result.returncode == 0 and "no checkpoint" in result.stdout, result.stderr
    documents = list(yaml.safe_load_all(out.read_text()))
    assert constant_in_pod(documents, "train-op", "checkpoint_dir", backend) == ""
    assert workspace_size(documents, backend) is None
    assert retries(documents, "train-op", backend) == (3 if at_least(backend, "2.5.0") else 0)
