"""Progress for long byte streams: a tqdm bar in a terminal, a log line every 10 % in logs (pods,
CI)."""

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm

log = logging.getLogger(__name__)


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


@contextmanager
def byte_progress(
    desc: str, total: int | None, initial: int = 0
) -> Iterator[Callable[[int], None]]:
    """Yield an `update(n_bytes)` callable that reports progress the way the reader can see it."""
    if sys.stderr.isatty():
        with tqdm(
            total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, desc=desc
        ) as bar:
            yield bar.update
        return
    done = initial
    next_step = 10

    def update(n: int) -> None:
        nonlocal done, next_step
        done += n
        if not total:
            return
        percent = done * 100 // total
        if percent >= next_step:
            log.info("%s: %d%% (%s of %s)", desc, percent, _megabytes(done), _megabytes(total))
            next_step = (percent // 10 + 1) * 10

    yield update
