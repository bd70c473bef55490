"""A full disk leaves the previous file intact and says so in one line: the compiled pipeline and
the JSON records are written to a temporary sibling, then renamed. The disk is a real 32 KiB tmpfs
(mounting it needs root, as CI has; elsewhere the tests are skipped)."""

import os
import subprocess

import pytest

from alexnet_kfp.errors import InputError
from alexnet_kfp.files import write_atomically

from .cli import run_cli


@pytest.fixture
def full_disk(tmp_path):
    """A 32 KiB file system holding one 'previous' file."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a tmpfs of its own needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(disk)])
    if mounted.returncode:
        pytest.skip("this machine cannot mount a tmpfs here")
    (disk / "pipeline.yaml").write_text("the previous pipeline\n")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


def test_compile_onto_a_full_disk_keeps_the_previous_pipeline(full_disk):
    result = run_cli("compile", "--output", full_disk / "pipeline.yaml", timeout=300)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "No space left on device" in lines[0] and "the previous file is intact" in lines[0]
    assert (full_disk / "pipeline.yaml").read_text() == "the previous pipeline\n"
    assert sorted(p.name for p in full_disk.iterdir()) == ["pipeline.yaml"]  # no partial file


def test_a_record_that_does_not_fit_leaves_nothing(full_disk):
    with pytest.raises(InputError, match="nothing was written"):
        write_atomically(full_disk / "summary.json", "x" * 100_000)
    assert sorted(p.name for p in full_disk.iterdir()) == ["pipeline.yaml"]
    write_atomically(full_disk / "summary.json", "{}\n")  # what fits is written whole
    assert (full_disk / "summary.json").read_text() == "{}\n"
