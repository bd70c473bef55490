"""Every command in an install that lacks its extra says which extras and how to install them, in
one line, exit 2: for each command, in three light installs of the wheel (the core alone,
`[predict]`, `[serve]`), each made from uv.lock in a virtual environment of its own."""

import argparse
import subprocess

import pytest

from alexnet_kfp.cli import build_parser

from .image_folders import class_files, write_folder
from .wheel import UV, light_install

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not UV, reason="needs uv (make installs it)")]

# What each light install runs, by a user's expectation: the data step needs only numpy and a
# sweep's grid is arithmetic; predict needs onnxruntime and Pillow; serve KServe too, and a
# manifest is YAML.
RUNS_IN = {
    "": {"data", "sweep"},
    "predict": {"data", "sweep", "predict"},
    "serve": {"data", "sweep", "predict", "serve", "manifest", "deploy"},
}


def _commands() -> dict[str, list[str]]:
    """{command: an argument list argparse accepts}: every required argument given a value."""
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    commands = {}
    for name, command in sub.choices.items():
        argv = [name]
        for action in command._actions:
            if action.option_strings and action.required:
                argv += [action.option_strings[0], "x"]
            elif not action.option_strings and action.dest != "help":
                argv.append("x")
        for group in command._mutually_exclusive_groups:  # one of them required: the first
            if group.required:
                argv += [group._group_actions[0].option_strings[0], "x"]
        commands[name] = argv
    return commands


COMMANDS = _commands()


@pytest.fixture(scope="module", params=sorted(RUNS_IN), ids=lambda e: f"[{e}]" if e else "core")
def install(request, wheel, tmp_path_factory):
    where = tmp_path_factory.mktemp(f"light-{request.param or 'core'}")
    return request.param, light_install(wheel, request.param, where)


def test_every_command_names_its_missing_extras_in_one_line(install, tmp_path):
    extra, bin_dir = install
    assert len(COMMANDS) >= 13, sorted(COMMANDS)
    for name, argv in COMMANDS.items():
        said = subprocess.run(
            [bin_dir / "alexnet-kfp", *argv],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
        hint = f"alexnet-kfp {name}: error: needs the "
        if name in RUNS_IN[extra]:
            assert hint not in said.stderr and "Traceback" not in said.stderr, (name, said.stderr)
            continue
        assert said.returncode == 2 and said.stdout == "", (name, said)
        (line,) = said.stderr.splitlines()
        wanted = line.split("pip install '.[", 1)[1].split("]'", 1)[0]
        assert line.startswith(hint) and "(not installed here: " in line, line
        assert line.endswith(
            f"in a clone of alexnet-kfp, pip install '.[{wanted}]'; from a package index, "
            f"pip install 'alexnet-kfp[{wanted}]'"
        ), line
        # the extras it names, installed, are what the command needs
        known = {"all", "train", "pipeline", "export", "serve", "predict", "tracking"}
        assert set(wanted.split(",")) & known


@pytest.mark.parametrize("install", [""], indirect=True, ids=["core"])
def test_a_folder_of_images_without_pillow_is_one_line_naming_the_extra(install, tmp_path):
    """CIFAR-10 needs no Pillow; your own images do (the predict extra brings it)."""
    _, bin_dir = install
    folder = write_folder(tmp_path / "photos", class_files(["a", "b"], 3))
    said = subprocess.run(
        [bin_dir / "alexnet-kfp", "data", "--source", folder, "--out", tmp_path / "ds"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert said.returncode == 2 and not (tmp_path / "ds").exists(), said
    (line,) = said.stderr.splitlines()
    assert "a folder of images needs Pillow, which the predict extra brings" in line, line
