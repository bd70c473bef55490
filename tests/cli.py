"""Running `alexnet-kfp` as a user does: a real process of this interpreter, output captured."""

import subprocess
import sys


def cli_args(*args: object) -> list[str]:
    """The command line of `alexnet-kfp ARGS...` (paths and numbers as text)."""
    return [sys.executable, "-m", "alexnet_kfp", *map(str, args)]


def run_cli(*args: object, timeout: float = 300, **settings) -> subprocess.CompletedProcess:
    """Run `alexnet-kfp ARGS...` to the end; `settings` go to subprocess.run (env=..., ...)."""
    return subprocess.run(
        cli_args(*args), capture_output=True, text=True, timeout=timeout, **settings
    )
