"""What comes from outside, class by class, wherever it is read: whole numbers are digits 0-9
(Python's int() takes every script's digits, spaces, underscores and signs), JSON and YAML nest at
most 64 levels (their parsers recurse until the stack gives out), a file's or a list's size is
known before it is read or made, and an output named by the user is a regular file or `-`."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from alexnet_kfp.errors import InputError
from alexnet_kfp.export.model_repository import models_in
from alexnet_kfp.train.trial import _count_attempt
from alexnet_kfp.train.trials import MAX_TRIALS
from alexnet_kfp.untrusted import (
    MAX_DEPTH,
    depth,
    integer,
    json_value,
    read_text,
    whole_number,
    yaml_documents,
)

from .cli import run_cli, run_cli_without_tensorflow

pytestmark = pytest.mark.unit

# Strings int() or str.isdigit() take that are not digits 0-9: other scripts' digits, digits
# that are not decimal, blanks, underscores, signs, and too many digits
NOT_DIGITS = ["²", "３", "٣", "߃", " 1", "1 ", "1_0", "+1", "", "1" * 19, "0x1", "1e3"]
DEEP = 100_000


def _one_line(result: subprocess.CompletedProcess, *words: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and all(w in lines[0] for w in words), lines
    return lines[0]


@pytest.mark.parametrize("text", NOT_DIGITS)
def test_a_whole_number_is_digits_0_to_9_alone(text):
    with pytest.raises(InputError, match="digits 0-9"):
        whole_number(text, "count")
    with pytest.raises(InputError, match="digits 0-9"):
        integer(text, "count")
    assert whole_number("0" * 18, "count") == 0 and integer("-42", "count") == -42


@pytest.mark.parametrize(
    "text, levels",
    [
        ("3", 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('["[[[[", "}}}"]', 1),  # brackets inside strings do not nest
        ("[" * MAX_DEPTH + "]" * MAX_DEPTH, MAX_DEPTH),
    ],
)
def test_nesting_is_counted_on_the_parsed_value(text, levels):
    assert depth(json_value(text, "x")) == levels


def test_json_and_yaml_nested_past_the_bound_are_one_line():
    fine = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert json_value(fine, "x") and yaml_documents(fine, "x")
    for deep in ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "[" * DEEP + "]" * DEEP):
        with pytest.raises(InputError, match="trials: nested more than the 64 levels allowed"):
            json_value(deep, "trials")
        with pytest.raises(InputError, match="pipeline: nested more than the 64 levels allowed"):
            yaml_documents(deep, "pipeline")
    block = "".join(f"{'  ' * i}a:\n" for i in range(3000))  # nesting by indentation alone
    with pytest.raises(InputError, match="pipeline: nested more than the 64 levels allowed"):
        yaml_documents(block, "pipeline")


def test_a_files_size_is_checked_before_it_is_read(tmp_path):
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:
        f.truncate(8 << 30)  # 8 GiB, sparse: reading it would take minutes and the memory
    with pytest.raises(InputError, match="8,589,934,592 bytes, more than the 16 allowed"):
        read_text(huge, str(huge), 16)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # reading would wait for a writer forever
    with pytest.raises(InputError, match="not a regular file"):
        read_text(fifo, str(fifo), 16)


def _deep_trials(tmp_path: Path) -> Path:
    path = tmp_path / "deep.json"
    path.write_text("[" * DEEP + "]" * DEEP)
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--trials", "{deep}"],
        ["compile", "--sweep", "--trials", "{deep}", "--output", "{out}"],
        ["submit", "--pipeline", "sweep.yaml", "--host", "http://127.0.0.1:9", "trials=@{deep}"],
    ],
    ids=["run", "compile", "submit"],
)
def test_a_trials_file_nested_deep_is_one_line(args, tmp_path):
    deep, out = _deep_trials(tmp_path), tmp_path / "out.yaml"
    args = [a.format(deep=deep, out=out) for a in args]
    _one_line(run_cli(*args, timeout=300), "nested more than the 64 levels allowed")
    assert not out.exists()


def test_a_compiled_pipeline_nested_deep_is_one_line_for_submit(tmp_path):
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text("a: " + "[" * DEEP + "]" * DEEP + "\n")
    result = run_cli("submit", "--pipeline", pipeline, "--host", "http://127.0.0.1:9", timeout=120)
    _one_line(result, str(pipeline), "nested more than the 64 levels allowed")


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--data", "{tmp}", "--out", "{tmp}/m", "--epochs", "{n}"],
        ["data", "--out", "{tmp}/d", "--seed", "{n}"],
        ["sweep", "--seeds", "0,{n}"],
        ["sweep", "--grid", "epochs=2,{n}"],
        ["compile", "--sweep", "--parallelism", "{n}", "--output", "{tmp}/s.yaml"],
        ["submit", "--host", "http://127.0.0.1:9", "epochs={n}"],
        ["serve", "--model", "{tmp}", "--http-port", "{n}"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
@pytest.mark.parametrize("n", ["３", "٣", "1_0"])
def test_every_integer_flag_and_parameter_is_digits_0_to_9(args, n, tmp_path):
    args = [a.format(tmp=tmp_path, n=n) for a in args]
    result = run_cli_without_tensorflow(*args)
    _one_line(result, n)


def test_a_grid_is_counted_before_it_is_made():
    axes = [f"{name}={','.join(str(i + 1) for i in range(100))}" for name in
            ("epochs", "batch_size", "seed", "plateau_patience")]  # fmt: skip
    args = [arg for axis in axes for arg in ("--grid", axis)]
    result = run_cli_without_tensorflow("sweep", *args)
    _one_line(result, f"100 x 100 x 100 x 100 = 100,000,000 trials; at most {MAX_TRIALS}")


def _outputs(tmp_path: Path) -> dict[str, Path]:
    link = tmp_path / "stdout-link"
    link.symlink_to("/proc/self/fd/1")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    return {"link": link, "device": Path("/dev/null"), "fifo": fifo, "directory": tmp_path}


@pytest.mark.parametrize("kind", ["link", "device", "fifo", "directory"])
@pytest.mark.parametrize(
    "args", [["compile"], ["compile", "--sweep"], ["sweep", "--grid", "epochs=2,3"]]
)
def test_an_output_that_is_not_a_regular_file_is_refused(args, kind, tmp_path):
    target = _outputs(tmp_path)[kind]
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_cli_without_tensorflow(*args, "--output", target)
    _one_line(result, f"--output {target}", "- for standard output")
    assert result.stdout == "" and sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("args", [["compile"], ["sweep", "--grid", "epochs=2,3"]])
def test_dash_writes_to_standard_output(args):
    result = run_cli_without_tensorflow(*args, "--output", "-")
    assert result.returncode == 0, result.stderr
    if args[0] == "compile":
        documents = list(yaml.safe_load_all(result.stdout))
        assert documents[0]["pipelineInfo"]["name"] == "alexnet-cifar10"
    else:
        assert json.loads(result.stdout) == [{"epochs": 2}, {"epochs": 3}]


@pytest.mark.parametrize("name", ["²", "٣", "9" * 19])
def test_a_version_folder_of_other_digits_is_refused(name, tmp_path):
    model = tmp_path / "alexnet"
    for version in ("1", name):
        (model / version).mkdir(parents=True)
        (model / version / "model.onnx").write_bytes(b"onnx")
    (model / "config.pbtxt").write_text("")
    with pytest.raises(InputError, match="version folder .* is not a whole number"):
        models_in(tmp_path)
    result = run_cli_without_tensorflow("serve", "--model", tmp_path)
    _one_line(result, "version folder", "not a whole number")


def test_an_attempt_count_that_is_not_digits_is_counted_afresh(tmp_path):
    (tmp_path / "attempts").write_text("３\n")
    assert _count_attempt(tmp_path, 0) == 1
    assert _count_attempt(tmp_path, 0) == 2 and (tmp_path / "attempts").read_text() == "2\n"
