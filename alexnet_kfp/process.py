"""How every entry point (the CLI, each Kubeflow component) sets up its process for a step:
plain log lines on stderr, SIGTERM handled like Ctrl-C, and TensorFlow imported without its C++
start-up notices (which would otherwise stand before every one-line error and in every pod log)."""

import logging
import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from alexnet_kfp.errors import InputError

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


def _terminate(signum, frame):
    raise Terminated()


def setup(level: int = logging.INFO, tensorflow: bool = False) -> None:
    """Logging to stderr, SIGTERM as a clean stop; with `tensorflow`, a quiet TensorFlow import."""
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr, force=True)
    try:
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:
        # not the main thread (a library caller's worker): leave signals to the caller
        pass
    if tensorflow:
        import_tensorflow()


@contextmanager
def one_line_errors(step: str, *also: type[Exception]) -> Iterator[None]:
    """For a Kubeflow component's body: a bad input (or one of `also`, e.g. a failed parity check)
    ends the pod with the same one line the CLI prints (`alexnet-kfp train: error: ...`), not a
    traceback; SIGTERM exits 143 after cleanup."""
    refused: tuple[type[Exception], ...] = (InputError, *also)
    try:
        yield
    except refused as e:
        raise SystemExit(f"alexnet-kfp {step}: error: {e}") from None
    except KeyboardInterrupt as e:
        print(
            f"alexnet-kfp {step}: interrupted ({e or 'Ctrl-C'}); no partial output was left",
            file=sys.stderr,
        )
        raise SystemExit(getattr(e, "exit_code", 130)) from None


def import_tensorflow() -> None:
    """Import TensorFlow once, with its known start-up notices filtered out of the native stderr."""
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
