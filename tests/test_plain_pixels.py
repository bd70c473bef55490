"""Which gRPC requests plain_pixels.py answers itself: exactly one raw UINT8 `image` tensor
[N, 32, 32, 3] that the bytes fill, no parameters, no version, `probabilities` or no output asked
for. Every other request is left to KServe's path (tests/test_serve_plain_pixels.py). In a child
process: kserve's protobuf module and tritonclient's cannot share one."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .plain_requests import NOT_PLAIN

pytestmark = pytest.mark.unit


def test_plain_requests_are_taken_and_every_near_miss_left_to_kserve():
    done = subprocess.run(
        [sys.executable, "-m", "tests.plain_requests"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    assert said["plain"] == [1, 2, 1024]
    assert said["taken"] == [], f"taken although not plain: {said['taken']}"
    assert len(NOT_PLAIN) >= 16
