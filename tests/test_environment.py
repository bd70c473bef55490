"""The environment a pod or a workstation may give: no home directory at all (no HOME and no passwd
entry for the user, as in some pods), and a KERAS_BACKEND set for other work. Every command starts,
the steps run, and nothing lands in the working directory.

"No home" is real: the commands run in a user namespace (util-linux's `unshare`) as a uid that has
no passwd entry, with HOME unset."""

import os
import shutil
import subprocess
import sys

import pytest

from .cli import cli_args
from .http_server import Behaviour, LoopbackServer

HOMELESS_UID = 4242


def _homeless(*args: object, cwd, tmp, timeout: float = 600) -> subprocess.CompletedProcess:
    """`alexnet-kfp ARGS...` as a uid without a passwd entry, HOME unset, TMPDIR `tmp`."""
    environment = {k: v for k, v in os.environ.items() if k != "HOME"} | {"TMPDIR": str(tmp)}
    command = ["unshare", "--user", f"--map-user={HOMELESS_UID}", f"--map-group={HOMELESS_UID}"]
    return subprocess.run(
        [*command, *cli_args(*args)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def homeless_ok(tmp_path_factory):
    """Skip, saying why, where user namespaces are not allowed (the probe asks for the home)."""
    if not shutil.which("unshare"):
        pytest.skip("needs util-linux's unshare for a user without a home")
    probe = subprocess.run(
        ["unshare", "--user", f"--map-user={HOMELESS_UID}", sys.executable, "-c",
         "import pathlib\ntry:\n pathlib.Path.home()\nexcept RuntimeError:\n print('homeless')"],
        env={k: v for k, v in os.environ.items() if k != "HOME"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if probe.stdout.strip() != "homeless":
        pytest.skip(f"user namespaces unavailable here: {probe.stderr.strip()[:120]}")


COMMANDS = [
    "data", "train", "evaluate", "export", "verify", "predict", "serve", "model-repository",
    "manifest", "compile", "run", "submit", "sweep",
]  # fmt: skip


@pytest.mark.unit
def test_every_command_starts_without_a_home(homeless_ok, tmp_path):
    # it was a RuntimeError at import: the download cache's default asked for the home
    for command in ["--version", *(f"{c} --help" for c in COMMANDS)]:
        result = _homeless(*command.split(), cwd=tmp_path, tmp=tmp_path, timeout=120)
        assert result.returncode == 0, (command, result.stderr[-1500:])


@pytest.mark.integration
def test_the_steps_run_without_a_home_and_leave_the_working_directory_alone(
    homeless_ok, small_archive, small_sha256, tmp_path
):
    work, tmp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    tmp.mkdir()
    behaviour = Behaviour(files={"/cifar-10-python.tar.gz": small_archive.read_bytes()})
    with LoopbackServer(behaviour) as server:
        steps = [
            ("data", "--source", server.url("/cifar-10-python.tar.gz"), "--sha256", small_sha256,
             "--limit-per-class", 20, "--out", "dataset"),
            ("train", "--data", "dataset", "--out", "model", "--epochs", 1, "--variant", "article"),
            ("evaluate", "--data", "dataset", "--model", "model", "--out", "evaluation",
             "--min-accuracy", 0),
        ]  # fmt: skip
        for step in steps:
            result = _homeless(*step, cwd=work, tmp=tmp)
            assert result.returncode == 0, (step[0], result.stderr[-1500:])
    assert sorted(p.name for p in work.iterdir()) == ["dataset", "evaluation", "model"]  # no "~"
    # the download was cached under this user's folder of the temporary directory
    assert list((tmp / f"alexnet-kfp-cache-{HOMELESS_UID}").rglob("cifar-10-python.tar.gz"))


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_train_is_keras_on_tensorflow_whatever_keras_backend_says(backend, tiny_dataset, tmp_path):
    result = subprocess.run(
        cli_args("train", "--data", tiny_dataset, "--out", tmp_path / "model", "--epochs", 1,
                 "--variant", "article"),
        env=os.environ | {"KERAS_BACKEND": backend},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-1500:]
    assert (tmp_path / "model" / "model.keras").is_file()
