"""The project as a user installs it: its wheel, and light installs of it (one extra, or none) in
virtual environments of their own, made by uv from uv.lock without reaching a package index."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .real_data import REPO

PACKAGE_FOLDERS = {
    "alexnet_kfp": "alexnet_kfp",
    "components": "alexnet_kfp/components",
    "pipeline": "alexnet_kfp/pipeline",
}
# uv, as `make` installs it beside this interpreter
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


def build_wheel(out: Path) -> Path:
    """The wheel built offline (no build isolation: this environment's setuptools) from a copy of
    the sources, into `out`."""
    source = out / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for folder in PACKAGE_FOLDERS:
        shutil.copytree(
            REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
    command += ["--no-build-isolation", "--wheel-dir", str(out), str(source)]
    subprocess.run(command, check=True, timeout=300)
    (built,) = out.glob("alexnet_kfp-*.whl")
    return built


def light_install(wheel: Path, extra: str, where: Path) -> Path:
    """A virtual environment holding the wheel and, pinned by uv.lock, the core dependencies plus
    `extra` ("" for none); returns its bin directory. Offline: `uv sync` takes the locked files
    from uv's cache, which `make test` filled when it installed this environment from the same
    lock (a resolution, `uv pip install -r`, would need the index's pages, which it did not)."""
    venv = where / "venv"
    sync = [UV, "sync", "--frozen", "--offline", "--no-dev", "--no-install-project", "--quiet"]
    sync += ["--python", sys.executable, *([f"--extra={extra}"] if extra else [])]
    quiet = {"check": True, "capture_output": True, "timeout": 600}
    environment = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
    subprocess.run(sync, cwd=REPO, env=environment, **quiet)
    install = [
        UV,
        "pip",
        "install",
        "--offline",
        "--no-deps",
        "--python",
        str(venv / "bin" / "python"),
    ]
    subprocess.run([*install, str(wheel)], **quiet)
    return venv / "bin"
