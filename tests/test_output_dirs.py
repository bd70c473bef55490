"""Every step's output directory: checked before the work (a symbolic link, dangling or not, is
refused at once: the final rename would act on the link), and a path that something else takes
while the step works never costs the finished result: it is kept beside it, and the line says
where."""

import os

import pytest

from alexnet_kfp.errors import InputError
from alexnet_kfp.files import atomic_output_dir

from .cli import run_cli_without_tensorflow


@pytest.mark.unit
@pytest.mark.parametrize("target", ["empty-dir", "missing", "a-file"])
def test_a_symbolic_link_is_refused_before_any_work(tmp_path, target):
    (tmp_path / "empty-dir").mkdir()
    (tmp_path / "a-file").write_text("x")
    link = tmp_path / "out"
    link.symlink_to(tmp_path / target)
    worked = []
    with pytest.raises(InputError, match="is a symbolic link"), atomic_output_dir(link):
        worked.append(True)
    assert not worked and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "empty-dir", "out"]


@pytest.mark.unit
@pytest.mark.parametrize("taken_as", ["a directory with a file", "a file", "a symbolic link"])
def test_a_path_taken_during_the_work_keeps_the_result_beside_it(tmp_path, taken_as):
    out = tmp_path / "model"
    with pytest.raises(InputError) as refused, atomic_output_dir(out) as staging:
        (staging / "model.keras").write_text("hours of training")
        if taken_as == "a directory with a file":  # another process, meanwhile
            out.mkdir()
            (out / "theirs").write_text("theirs")
        elif taken_as == "a file":
            out.write_text("theirs")
        else:
            out.symlink_to(tmp_path)
    message = str(refused.value)
    assert message.startswith(f"output directory {out} was made by something else")
    kept = tmp_path / message.rsplit("kept in ", 1)[1].rsplit("/", 1)[1]
    assert (kept / "model.keras").read_text() == "hours of training"
    assert kept.name.startswith("model.kept-") and oct(kept.stat().st_mode)[-3:] == "755"
    assert out.is_symlink() or "theirs" in os.listdir(out) if out.is_dir() else True
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


@pytest.mark.unit
def test_an_empty_directory_made_beforehand_is_used(tmp_path):
    out = tmp_path / "dataset"
    out.mkdir()  # as KFP makes an artifact's directory
    with atomic_output_dir(out) as staging:
        (staging / "train.npz").write_text("x")
    assert (out / "train.npz").read_text() == "x"


@pytest.mark.unit
def test_a_linked_out_is_refused_before_the_step_reads_anything(tmp_path, small_archive):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out").symlink_to(tmp_path / "elsewhere")
    result = run_cli_without_tensorflow(
        "data", "--source", small_archive, "--out", tmp_path / "out"
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line == (
        f"alexnet-kfp data: error: output directory {tmp_path / 'out'} is a symbolic link (to "
        f"{tmp_path / 'elsewhere'}); give the directory itself or a new path"
    )
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.integration
def test_train_keeps_its_model_when_out_is_taken_while_it_trains(tiny_dataset, tmp_path):
    import subprocess

    from .cli import cli_args

    out = tmp_path / "model"
    command = cli_args(
        "train", "--data", tiny_dataset, "--out", out, "--epochs", 3, "--variant", "article"
    )
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    said = []
    for line in process.stderr:  # the first epoch's line: the output was checked long before
        said.append(line)
        if line.startswith("epoch 1/3"):
            out.mkdir()
            (out / "theirs.txt").write_text("another process's file")
    assert process.wait(timeout=600) == 2, "".join(said)
    last = said[-1].strip()
    assert last.startswith(f"alexnet-kfp train: error: output directory {out} was made by")
    kept = tmp_path / last.rsplit("kept in ", 1)[1].rsplit("/", 1)[1]
    assert (kept / "model.keras").is_file() and (kept / "train.json").is_file()
    assert [p.name for p in out.iterdir()] == ["theirs.txt"]
