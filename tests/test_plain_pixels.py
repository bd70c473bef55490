"""Which requests plain_pixels.py answers itself: exactly one UINT8 `image` tensor [N, 32, 32, 3]
that its data fills (gRPC's raw bytes; REST's flat JSON list of whole numbers 0-255 or the binary
extension's bytes), no parameters (REST: but `binary_data_output`), no version, `probabilities` or
no output asked for. Every other request is left to KServe's path
(tests/test_serve_plain_pixels.py). In a child process: kserve's protobuf module and
tritonclient's cannot share one."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .plain_requests import BINARY_NEAR_MISSES, NOT_PLAIN, REST_NEAR_MISSES, REST_PLAIN_FORMS

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def said() -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "tests.plain_requests"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_plain_grpc_requests_are_taken_and_every_near_miss_left_to_kserve(said):
    assert said["plain"] == [1, 2, 1024]
    assert said["taken"] == [], f"taken although not plain: {said['taken']}"
    assert len(NOT_PLAIN) >= 16


def test_plain_rest_requests_are_taken_and_every_near_miss_left_to_kserve(said):
    assert len(said["rest_plain"]) == 2 * len(REST_PLAIN_FORMS), said["rest_plain"]
    assert said["rest_taken"] == [], f"taken although not plain: {said['rest_taken']}"
    assert len(REST_NEAR_MISSES) + len(BINARY_NEAR_MISSES) >= 24
