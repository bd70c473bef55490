"""Waiting for a server the tests started: until it answers, or one clear failure with its log."""

import subprocess
import time
import urllib.request
from collections.abc import Callable


def answers(url: str) -> bool:
    """Whether `url` answers a GET with 200 within two seconds."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def wait_until_ready(
    ready: Callable[[], bool],
    process: subprocess.Popen,
    timeout: float,
    log_tail: Callable[[], str],
    what: str,
) -> None:
    """Poll `ready` until it is true; RuntimeError naming `what` and its log when the process ends
    first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start: {log_tail()}")
        time.sleep(0.3)
