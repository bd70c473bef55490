"""The project as a user installs it: its wheel, and light installs of it (one extra, or none) in
virtual environments of their own, made by uv from uv.lock without reaching a package index."""

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
    `extra` ("" for none); returns its bin directory. Offline: the packages come from uv's cache,
    which `make test` filled when it installed this environment from the same lock."""
    requirements = where / "requirements.txt"
    export = [UV, "export", "--frozen", "--no-hashes", "--no-dev", "--no-emit-project"]
    export += [f"--extra={extra}"] if extra else []
    subprocess.run([*export, "-o", str(requirements)], cwd=REPO, check=True, capture_output=True)
    venv = where / "venv"
    quiet = {"check": True, "capture_output": True, "timeout": 600}
    subprocess.run([UV, "venv", "--python", sys.executable, str(venv)], **quiet)
    install = [UV, "pip", "install", "--offline", "--python", str(venv / "bin" / "python")]
    subprocess.run([*install, "-r", str(requirements)], **quiet)
    subprocess.run([*install, "--no-deps", str(wheel)], **quiet)
    return venv / "bin"
