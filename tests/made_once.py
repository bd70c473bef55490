"""Session fixtures that `make test`'s workers share: the first worker to ask makes the thing, under
a lock in the directory all workers' temporary folders live in, and the others wait for it and
read it, so that the shared model is trained once per test run, not once per worker."""

import fcntl
from collections.abc import Callable
from pathlib import Path

import pytest


def made_once(
    factory: pytest.TempPathFactory, name: str, leaf: str, make: Callable[[Path], object]
) -> Path:
    """The path `name`/`leaf`, made by `make(path)` in the first worker that asks (the others wait
    on the lock and find it done). Without xdist, in the session's own temporary folder."""
    root = factory.getbasetemp()
    if root.name.startswith("popen-gw"):  # an xdist worker: its parent is the run's, shared
        root = root.parent
    folder, done = root / "shared" / name, root / "shared" / f"{name}.done"
    folder.parent.mkdir(exist_ok=True)
    with (root / "shared" / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            folder.mkdir()
            make(folder / leaf)
            done.touch()
    return folder / leaf
