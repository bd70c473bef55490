"""Shared fixtures: the real CIFAR-10 archives from ../shared/data (copied, never written to)."""

import shutil
from pathlib import Path

import pytest

from .real_data import FULL_ARCHIVE, SMALL_ARCHIVE


def _require(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path} is missing: the tests need the real CIFAR-10 archives of ../shared/data "
                    "(or set ALEXNET_KFP_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def small_archive(tmp_path_factory) -> Path:
    """A private copy of the small real archive (5 x 1,000 train, 1,000 test images)."""
    copy = tmp_path_factory.mktemp("small") / SMALL_ARCHIVE.name
    shutil.copyfile(_require(SMALL_ARCHIVE), copy)
    return copy


@pytest.fixture(scope="session")
def full_archive() -> Path:
    """The full real archive, read in place (read-only use)."""
    return _require(FULL_ARCHIVE)
