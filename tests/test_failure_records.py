"""How `alexnet-kfp run` learns which step failed and why: each step's error handler writes a
failure record (alexnet_kfp.process), and the local run reads the last one, never the console.
Also: two runs never share a run directory."""

import json
import subprocess
import sys

import pytest

from alexnet_kfp.errors import InputError
from alexnet_kfp.pipeline.local_run import PipelineFailed, failure_record
from alexnet_kfp.process import FAILURE_RECORDS, one_line_errors
from alexnet_kfp.records import FailureRecord

pytestmark = pytest.mark.unit


def _fail_in_step(step: str, error: BaseException, records, monkeypatch) -> dict:
    monkeypatch.setenv(FAILURE_RECORDS, str(records))
    with pytest.raises((SystemExit, type(error))), one_line_errors(step):
        raise error
    return json.loads((records / f"{step}.json").read_text())


def test_a_refusal_records_the_steps_one_line(tmp_path, monkeypatch):
    record = _fail_in_step("data", InputError("sha256 mismatch"), tmp_path, monkeypatch)
    assert record == {
        "step": "data",
        "kind": "refused",
        "said": "alexnet-kfp data: error: sha256 mismatch",
        "reason": "sha256 mismatch",
    }
    failed = PipelineFailed(
        "the pipeline failed", record["said"], tmp_path / "run.log", FailureRecord(**record)
    )
    assert failed.bad_input() == "the data step refused its input: sha256 mismatch"


def test_a_fault_is_recorded_as_a_failure_not_bad_input(tmp_path, monkeypatch):
    record = _fail_in_step("export", MemoryError("out of memory"), tmp_path, monkeypatch)
    assert (record["kind"], record["reason"]) == ("failed", "MemoryError: out of memory")
    failed = PipelineFailed(
        "the pipeline failed", record["said"], tmp_path / "run.log", FailureRecord(**record)
    )
    assert failed.bad_input() is None


def test_a_signal_is_recorded_as_an_interruption(tmp_path, monkeypatch):
    record = _fail_in_step("train", KeyboardInterrupt(), tmp_path, monkeypatch)
    assert (record["kind"], record["reason"]) == ("interrupted", "SIGINT: Ctrl-C")


def test_without_the_variable_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv(FAILURE_RECORDS, raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit), one_line_errors("data"):
        raise InputError("bad")
    assert not list(tmp_path.iterdir())


def test_an_unwritable_folder_never_hides_the_failure(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(FAILURE_RECORDS, str(tmp_path / "file" / "records"))
    with pytest.raises(SystemExit, match="alexnet-kfp data: error: bad"), one_line_errors("data"):
        raise InputError("bad")


def test_the_last_record_wins_and_damaged_ones_are_passed_over(tmp_path, monkeypatch):
    _fail_in_step("train", InputError("first"), tmp_path, monkeypatch)
    _fail_in_step("verify", InputError("second"), tmp_path, monkeypatch)
    (tmp_path / "garbage.json").write_text("{not json")
    (tmp_path / "other.json").write_text(json.dumps({"said": 3}))
    record = failure_record(tmp_path)
    assert record is not None and (record.step, record.reason) == ("verify", "second")
    assert failure_record(tmp_path / "none") is None


def test_a_component_process_writes_its_record(tmp_path):
    # the way kfp.local runs a step: a child process that inherits the environment
    script = (
        "from alexnet_kfp.errors import InputError\n"
        "from alexnet_kfp.process import one_line_errors\n"
        "with one_line_errors('evaluate'):\n"
        "    raise InputError('no model.keras')\n"
    )
    env = {FAILURE_RECORDS: str(tmp_path), "PATH": ""}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 1 and "alexnet-kfp evaluate: error: no model.keras" in done.stderr
    record = failure_record(tmp_path)
    assert record is not None and record.said == "alexnet-kfp evaluate: error: no model.keras"


def test_runs_started_in_the_same_second_get_their_own_directories(tmp_path, monkeypatch):
    import time

    from alexnet_kfp.pipeline.local_run import _new_run_dir

    monkeypatch.setattr(
        time, "gmtime", lambda: time.struct_time((2026, 12, 3, 17, 0, 0, 3, 337, 0))
    )
    made = [_new_run_dir(tmp_path / "runs") for _ in range(3)]
    assert [d.name for d in made] == [
        "20261203T170000Z",
        "20261203T170000Z-2",
        "20261203T170000Z-3",
    ]
