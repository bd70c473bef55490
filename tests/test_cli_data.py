"""The `alexnet-kfp data` command as a user runs it: a real subprocess, exit codes, one-line
errors."""

import json

import pytest

from .cli import run_cli

pytestmark = pytest.mark.unit


def test_data_command_writes_the_dataset(small_sha256, small_archive, tmp_path):
    result = run_cli(
        "data",
        "--source",
        str(small_archive),
        "--sha256",
        small_sha256,
        "--out",
        str(tmp_path / "ds"),
    )
    assert result.returncode == 0, result.stderr
    assert "train 3500, val 1500, test 1000" in result.stdout
    assert (
        json.loads((tmp_path / "ds" / "dataset.json").read_text())["splits"]["test"]["count"]
        == 1000
    )


def test_checksum_mismatch_exits_2_with_one_line_and_no_output(small_archive, tmp_path):
    result = run_cli(
        "data", "--source", str(small_archive), "--sha256", "1" * 64, "--out", str(tmp_path / "ds")
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "sha256 mismatch" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_missing_source_exits_2(tmp_path):
    result = run_cli(
        "data", "--source", str(tmp_path / "nope.tar.gz"), "--out", str(tmp_path / "ds")
    )
    assert (
        result.returncode == 2
        and "no such file" in result.stderr
        and "Traceback" not in result.stderr
    )


def test_help_explains_sources_and_checksums():
    result = run_cli("data", "--help")
    assert result.returncode == 0
    for word in ("--source", "--sha256", "--md5", "--val-fraction", "--limit-per-class", "file://"):
        assert word in result.stdout
