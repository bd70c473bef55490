"""What each package holds. Which package may import which (the layers, no cycles, the light
`predict` path) is import-linter's contract in pyproject.toml, checked by `make lint`."""

import pytest

from .real_data import REPO

pytestmark = pytest.mark.unit


def test_serve_holds_the_server_only():
    # export-time packaging (model repository, manifests) lives in export/ and deploy/
    served = {path.stem for path in (REPO / "alexnet_kfp" / "serve").glob("*.py")}
    assert served == {
        "__init__", "server", "kserve_model", "kserve_adapter", "limits", "config", "guards",
        "binary_request", "batcher", "plain_pixels",
    }  # fmt: skip
