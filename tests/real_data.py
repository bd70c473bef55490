"""Where the real CIFAR-10 archives are, and their sha256s from ../shared/data/README.md."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ALEXNET_KFP_SHARED_DATA", REPO.parent / "shared" / "data"))
SMALL_ARCHIVE = SHARED_DATA / "cifar-10-small-python.tar.gz"
SMALL_SHA256 = "80e9812122ca3e4a945c756e4827ab8d37530f7509c08e1daec39cf6d1090680"
FULL_ARCHIVE = SHARED_DATA / "cifar-10-python.tar.gz"
FULL_SHA256 = "f6cb127c49ee2545f5e8eb68f4cffe2eee9fc67e59676ca447f0692db63a56e2"
