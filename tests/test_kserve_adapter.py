"""The KServe internals the server relies on (alexnet_kfp/serve/kserve_adapter.py) are there in the
KServe installed, which is the version the adapter was written for; our flags never reach KServe's
parser and its own do. Each check runs in a child process: kserve and tritonclient cannot share
one (docs/design.md)."""

import importlib.metadata
import json
import subprocess
import sys

import pytest

from alexnet_kfp.serve.kserve_adapter import WRITTEN_FOR

pytestmark = pytest.mark.unit


def _in_child(script: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done


def test_the_installed_kserve_is_the_one_the_adapter_was_written_for():
    installed = importlib.metadata.version("kserve")
    assert installed.startswith(f"{WRITTEN_FOR}."), (
        f"KServe {installed} is installed; kserve_adapter.py was written for {WRITTEN_FOR}: "
        "check each internal it uses against the new version, then update WRITTEN_FOR"
    )
    _in_child("from alexnet_kfp.serve.kserve_adapter import check_internals\ncheck_internals()\n")


def test_kserve_reads_its_own_flags_and_never_ours():
    ours = ["serve", "--http-port", "9", "--model", "x"]
    done = _in_child(
        "import json, sys\n"
        f"sys.argv = ['alexnet-kfp', *{ours!r}]\n"
        "from alexnet_kfp.serve.kserve_adapter import kserve_flags\n"
        "with kserve_flags('--grpc_max_receive_message_length=1234'):\n"
        "    from kserve import model_server\n"
        "args = model_server.args\n"
        "print(json.dumps([args.grpc_max_receive_message_length, args.http_port, sys.argv[1:]]))\n"
    )
    assert json.loads(done.stdout) == [1234, 8080, ours]  # KServe's default port: not our 9


def test_a_missing_internal_is_named_with_the_version():
    done = _in_child(
        "from kserve import model_server\n"
        "del model_server.app\n"
        "from alexnet_kfp.serve.kserve_adapter import KServeChanged, check_internals\n"
        "try:\n"
        "    check_internals()\n"
        "except KServeChanged as e:\n"
        "    print(e)\n"
    )
    assert "lacks kserve.model_server.app" in done.stdout
    assert f"written for KServe {WRITTEN_FOR}" in done.stdout
