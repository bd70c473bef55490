"""How every entry point (the CLI, each Kubeflow component) sets up its process for a step:
plain log lines on stderr, SIGTERM handled like Ctrl-C, and TensorFlow imported without its C++
start-up notices (which would otherwise stand before every one-line error and in every pod log)."""

import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alexnet_kfp.errors import InputError
from alexnet_kfp.progress import started
from alexnet_kfp.records import FailureRecord

# What TensorFlow 2.21 prints to the native stderr on import, whatever TF_CPP_MIN_LOG_LEVEL says.
_TENSORFLOW_IMPORT_NOISE = (
    "All log messages before absl::InitializeLog()",
    "oneDNN custom operations are on",
)


class Terminated(KeyboardInterrupt):
    """SIGTERM (Kubernetes eviction or preemption, `timeout`, `kill`), raised like Ctrl-C's
    KeyboardInterrupt so that every staging directory is removed on the way out."""

    exit_code = 143  # 128 + SIGTERM, as a shell reports it

    def __str__(self) -> str:
        return "terminated by SIGTERM"


def signal_of(interruption: KeyboardInterrupt) -> str:
    """The signal that stopped the process, as its messages name it."""
    return str(interruption) or "SIGINT: Ctrl-C"


# The processes a forwarded signal was sent to (children_stopped_with_us).
_SIGNALLED: set[int] = set()


@contextmanager
def children_stopped_with_us() -> Iterator[None]:
    """While the block runs, SIGTERM and Ctrl-C reach this process's children too (SIGTERM from
    `kill` or Kubernetes reaches this process alone), before they are raised here as Terminated
    or KeyboardInterrupt: a parent that waits for a child (subprocess.Popen's context does, for
    any exception but KeyboardInterrupt itself) would otherwise wait for the whole step."""

    def forward(signum, frame):
        # remembered: a child whose parent (a shell) dies first is no longer ours to find
        _SIGNALLED.update(descendants(os.getpid()))
        for pid in _SIGNALLED:
            _signal(pid, signal.SIGTERM)
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    saved = {number: signal.signal(number, forward) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def stop_children(grace_s: float = 30.0) -> None:
    """Send SIGTERM to every process this one started (and theirs), wait up to `grace_s` for them
    to clean up and exit, then SIGKILL what is left. Read from /proc: the steps a local run
    started are its children, in its process group or not."""
    found = sorted(set(descendants(os.getpid())) | _SIGNALLED)
    for pid in found:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(alive(pid) for pid in found):
        time.sleep(0.2)
    for pid in found:
        if alive(pid):
            _signal(pid, signal.SIGKILL)


def _stat(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the command name (state first, then the parent's pid);
    empty when the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def descendants(root: int) -> list[int]:
    """The processes `root` started, and theirs."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat(entry.name)
        if fields:  # else gone meanwhile
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, queue = [], list(children.get(root, []))
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def alive(pid: int) -> bool:
    """Running: a zombie has exited, only its parent has yet to reap it."""
    fields = _stat(pid)
    return bool(fields) and fields[0] != "Z"


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


def _terminate(signum, frame):
    raise Terminated()


def setup(step: str = "", tensorflow: bool = False, level: int = logging.INFO) -> None:
    """Logging to stderr, SIGTERM as a clean stop; with `tensorflow`, a quiet TensorFlow import.
    A component names its `step`: its progress becomes events for a local run (progress.py)."""
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr, force=True)
    try:
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:
        # not the main thread (a library caller's worker): leave signals to the caller
        pass
    if step:
        started(step)
    if tensorflow:
        import_tensorflow()


# A directory where each step that fails writes why (FailureRecord), for `alexnet-kfp run`, which
# otherwise sees only the steps' console text; unset (as in a cluster), nothing is written.
FAILURE_RECORDS = "ALEXNET_KFP_FAILURE_RECORDS"
# What a failure record's `kind` says: the step refused its input, was stopped by a signal, failed
# otherwise (a fault, not the input), or the gate rejected the model.
REFUSED, INTERRUPTED, FAILED, REJECTED = "refused", "interrupted", "failed", "rejected"


def record_failure(step: str, kind: str, said: str, reason: str) -> None:
    """$ALEXNET_KFP_FAILURE_RECORDS/<step>.json: {"step", "kind", "said": the line the step
    printed, "reason": that line's own reason} (written whole, then renamed); a record that
    cannot be written never hides the failure itself."""
    folder = os.environ.get(FAILURE_RECORDS)
    if not folder:
        return
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        FailureRecord(step, kind, said, reason).write_file(Path(folder) / f"{step}.json")
    except OSError:
        pass


@contextmanager
def one_line_errors(step: str, *also: type[Exception]) -> Iterator[None]:
    """For a Kubeflow component's body: a bad input (or one of `also`, e.g. a failed parity check)
    ends the pod with the same one line the CLI prints (`alexnet-kfp train: error: ...`), not a
    traceback; SIGTERM exits 143 after cleanup. Each failure is also recorded (record_failure)."""
    refused: tuple[type[Exception], ...] = (InputError, *also)
    try:
        yield
    except refused as e:
        said = f"alexnet-kfp {step}: error: {e}"
        record_failure(step, REFUSED, said, str(e))
        raise SystemExit(said) from None
    except KeyboardInterrupt as e:
        reason = signal_of(e)
        said = f"alexnet-kfp {step}: interrupted ({reason}); no partial output was left"
        record_failure(step, INTERRUPTED, said, reason)
        print(said, file=sys.stderr)
        raise SystemExit(getattr(e, "exit_code", 130)) from None
    except Exception as e:  # a fault: the traceback stays in the log
        reason = f"{type(e).__name__}: {e}"
        record_failure(step, FAILED, f"alexnet-kfp {step}: failed: {reason}", reason)
        raise


def import_tensorflow() -> None:
    """Import TensorFlow once, with its known start-up notices filtered out of the native stderr,
    and make it Keras's backend: the steps' models, callbacks and checkpoints are TensorFlow's, so
    a KERAS_BACKEND of jax or torch in the environment (set for other work) does not apply."""
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow" and "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "tensorflow"
    if "KERAS_HOME" not in os.environ and not _has_home():
        # Keras would make "~/.keras" literally, a folder named "~" in the working directory
        os.environ["KERAS_HOME"] = os.path.join(tempfile.gettempdir(), f"keras-{os.getuid()}")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401 (imported for its start-up messages, captured here)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines(keepends=True):
                if not any(noise in line for noise in _TENSORFLOW_IMPORT_NOISE):
                    sys.stderr.write(line)


def _has_home() -> bool:
    """Whether this user has a home directory (HOME, else a passwd entry): some pods have none."""
    try:
        Path.home()
    except RuntimeError:
        return False
    return True
