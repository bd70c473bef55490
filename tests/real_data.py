"""Where the tests find the real CIFAR-10 archives, when they are given.

A path in ALEXNET_KFP_CIFAR10 (the full official-layout archive) or ALEXNET_KFP_CIFAR10_SMALL (the
small one: 5 x 1,000 train and 1,000 test images), else a copy beside the checkout in
../shared/data. The tests that need the real images are skipped without them; every other test
runs on an archive the tests generate (synthetic.py).
"""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_BESIDE = REPO.parent / "shared" / "data"


def _given(variable: str, name: str) -> Path | None:
    path = Path(os.environ[variable]) if os.environ.get(variable) else _BESIDE / name
    return path if path.is_file() else None


REAL_SMALL = _given("ALEXNET_KFP_CIFAR10_SMALL", "cifar-10-small-python.tar.gz")
REAL_FULL = _given("ALEXNET_KFP_CIFAR10", "cifar-10-python.tar.gz")
HOW_TO_GIVE = "set ALEXNET_KFP_CIFAR10 to the path of cifar-10-python.tar.gz to run it"
