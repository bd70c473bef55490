"""What `alexnet-kfp run` shows while the pipeline runs, and where it finds the steps' outputs: the
steps' progress events (alexnet_kfp.progress), read from the run's events file as they are
appended. Each step's start and end, its progress lines, and at its end its outputs' paths by
name; nothing is read from kfp.local's console output."""

import json
import threading
from pathlib import Path
from typing import TextIO

from alexnet_kfp.progress import FINISHED, NOT_LOGGED, PROGRESS, STARTED

_POLL_SECONDS = 0.2


class StepEvents:
    """Follows `path` on a thread of its own while the run runs (a context manager): prints each
    event to `shown` as a line (unless `quiet`), and keeps each finished step's outputs."""

    def __init__(self, path: Path, shown: TextIO, quiet: bool = False):
        self.path, self.shown, self.quiet = path, shown, quiet
        self.outputs: dict[str, dict[str, str]] = {}  # step -> {output name: path}
        self.not_logged: list[str] = []  # "step: what", what a step's tracker could not log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="step-events", daemon=True)
        self._offset, self._partial = 0, b""

    def __enter__(self) -> "StepEvents":
        self.path.touch()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._read()  # what came after the last poll

    def output(self, step: str, name: str) -> Path | None:
        """The path of `step`'s output `name`, when the step finished and made it."""
        path = self.outputs.get(step, {}).get(name)
        return Path(path) if path else None

    def _follow(self) -> None:
        while not self._stop.wait(_POLL_SECONDS):
            self._read()

    def _read(self) -> None:
        with self.path.open("rb") as events:
            events.seek(self._offset)
            data = events.read()
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        for line in lines:
            self._take(line)

    def _take(self, line: bytes) -> None:
        try:
            event = json.loads(line)
            step, kind = str(event["step"]), event["kind"]
        except (ValueError, KeyError, TypeError):
            return  # not an event a step wrote: nothing to show
        if kind == FINISHED and isinstance(event.get("outputs"), dict):
            self.outputs[step] = {str(k): str(v) for k, v in event["outputs"].items()}
        if kind == NOT_LOGGED and isinstance(event.get("what"), list):
            self.not_logged += [f"{step}: {what}" for what in event["what"]]
        if self.quiet:
            return
        if kind == STARTED:
            self._say(f"{step}: running")
        elif kind == FINISHED:
            self._say(f"{step}: {event.get('outcome') or 'done'}")
        elif kind == PROGRESS:
            self._say(f"  {event.get('text', '')}")

    def _say(self, line: str) -> None:
        self.shown.write(line + "\n")
        self.shown.flush()
