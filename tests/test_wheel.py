"""The wheel, installed on its own: it claims no generic top-level module, carries every module of
the three package folders, and compiles the same pipeline.yaml from any directory."""

import subprocess
import sys
import zipfile

import pytest

from .cli import cli_args
from .real_data import REPO
from .wheel import PACKAGE_FOLDERS

pytestmark = pytest.mark.e2e


def test_the_wheel_claims_only_the_project_namespace_and_carries_every_module(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names if ".dist-info/" not in n} == {"alexnet_kfp"}
    for folder, installed in PACKAGE_FOLDERS.items():
        for module in (REPO / folder).rglob("*.py"):
            assert f"{installed}/{module.relative_to(REPO / folder).as_posix()}" in names, module


def test_an_installed_wheel_compiles_the_committed_pipeline_from_any_directory(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "HOME": str(tmp_path)}
    where = subprocess.run(
        [sys.executable, "-c", "import alexnet_kfp.pipeline as p; print(p.__file__)"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        check=True,
    )
    assert where.stdout.startswith(str(site)), (
        where.stdout
    )  # the wheel's copy, not the repository's
    subprocess.run(
        cli_args("compile", "--output", "pipeline.yaml"),
        cwd=elsewhere,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert (elsewhere / "pipeline.yaml").read_bytes() == (REPO / "pipeline.yaml").read_bytes()
