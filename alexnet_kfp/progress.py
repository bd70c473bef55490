"""The steps' progress as structured events, for `alexnet-kfp run`: a step says when it starts,
what it is doing (its epochs, the gate, a sweep's trials, a tracker's warnings) and, when it has
finished, where its outputs are. Each event is one JSON line appended to the file that
$ALEXNET_KFP_EVENTS names; unset (as in a cluster), nothing is written and the step's log alone
says it. The local run reads these events, never kfp.local's or a library's console wording.

An event: {"step", "kind": STARTED, PROGRESS, NOT_LOGGED or FINISHED, "text" (PROGRESS), "what"
(NOT_LOGGED: what MLflow did not get), "outcome" and "outputs" (FINISHED: how it ended when not
simply done, and {output name: path})}.
"""

import json
import logging
import os

EVENTS = "ALEXNET_KFP_EVENTS"
STARTED, PROGRESS, FINISHED = "started", "progress", "finished"
NOT_LOGGED = "not_logged"  # what a step's tracker could not log: {"what": [...]}

# Passed as a log call's `extra`: the line is progress a local run shows (an epoch, the training's
# start), beside every warning, which it always shows.
SHOWN = {"progress": True}


def _append(event: dict) -> None:
    path = os.environ.get(EVENTS)
    if not path:
        return
    line = json.dumps(event) + "\n"
    try:  # one write of a line in append mode: whole lines, also from concurrent trials
        with open(path, "a", encoding="utf-8") as events:
            events.write(line)
    except OSError:  # a progress line never fails a step
        pass


def started(step: str) -> None:
    """The step has started; its warnings, and its log lines marked SHOWN, become events."""
    _append({"step": step, "kind": STARTED})
    if os.environ.get(EVENTS):
        logging.getLogger("alexnet_kfp").addHandler(_Events(step))


def tell(step: str, text: str) -> None:
    """One line of progress: in the step's log, and as an event."""
    print(text, flush=True)
    _append({"step": step, "kind": PROGRESS, "text": text})


def not_logged(step: str, what: list[str]) -> None:
    """What the step's tracker could not log (its warning says why), for the run's summary."""
    _append({"step": step, "kind": NOT_LOGGED, "what": what})


def finished(step: str, outcome: str = "", **outputs: str) -> None:
    """The step has finished; `outcome`: how, when not simply done (a sweep's failed trial);
    `outputs`: its output artifacts' paths by name."""
    _append({"step": step, "kind": FINISHED, "outcome": outcome, "outputs": outputs})


class _Events(logging.Handler):
    """The step's warnings and SHOWN lines of the package's loggers, as PROGRESS events."""

    def __init__(self, step: str):
        super().__init__(logging.INFO)
        self.step = step

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING or getattr(record, "progress", False):
            _append({"step": self.step, "kind": PROGRESS, "text": record.getMessage()})
