"""`alexnet-kfp run`: the whole pipeline on this machine with kfp.local's SubprocessRunner (no
cluster, no Docker). Artifacts land under runs/<UTC timestamp>/. The run reads its steps, not
kfp.local's console: their progress and outputs come as events (run_events.py), and each failing
step records why in the run's failures/ folder (process.record_failure), so that the run ends with
that one line, not with whatever kfp.local printed last. kfp.local's own output goes to run.log
(and to the terminal with --verbose)."""

import contextlib
import importlib.util
import io
import json
import logging
import os
import re
import sys
import time
from pathlib import Path

from alexnet_kfp.errors import InputError
from alexnet_kfp.extras import install_hint
from alexnet_kfp.files import make_directory
from alexnet_kfp.pipeline.profiles import LOCAL, QUICK
from alexnet_kfp.pipeline.run_events import StepEvents
from alexnet_kfp.pipeline.run_links import link_outputs
from alexnet_kfp.pipeline.run_summary import (
    gate_of,
    parity_of,
    run_report,
    sweep_of,
    tracking_of,
)
from alexnet_kfp.process import (
    FAILURE_RECORDS,
    REFUSED,
    children_stopped_with_us,
    signal_of,
    stop_children,
)
from alexnet_kfp.progress import EVENTS
from alexnet_kfp.records import FailureRecord, RunSummary
from alexnet_kfp.tracking import Tracker, tracking_uri
from alexnet_kfp.tracking.environment import PARENT_RUN_ID, TRACKING_URI, check_tracking_uri
from alexnet_kfp.train.halving import Halving

# kfp.local colours its error messages; the run's one line is plain text
_COLOURS = re.compile(r"\x1b\[[0-9;]*m")
EVENTS_FILE = "events.jsonl"


class _Both(io.TextIOBase):
    """--verbose: kfp.local's output to the terminal and to run.log."""

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


class PipelineFailed(RuntimeError):
    """A step failed; `said` is what it said (its record's one line, else the log's tail), `log`
    the whole log, `record` the step's failure record when it wrote one."""

    def __init__(self, message: str, said: str, log: Path, record: FailureRecord | None = None):
        super().__init__(message)
        self.said, self.log, self.record = said, log, record

    def bad_input(self) -> str | None:
        """The step's one-line error when it refused its input (so the run fails as bad input)."""
        if not self.record or self.record.kind != REFUSED:
            return None
        return f"the {self.record.step} step refused its input: {self.record.reason}"


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by a signal, its running steps stopped with it: it says what is left."""

    def __init__(self, cause: KeyboardInterrupt, run_dir: Path, runs_root: Path):
        super().__init__(signal_of(cause))
        self.exit_code = getattr(cause, "exit_code", 130)
        self.left = (
            f"its steps were stopped; {run_dir} is incomplete (no summary.json) and "
            f"{runs_root / 'latest'} still names the last finished run"
        )


def failure_record(folder: Path) -> FailureRecord | None:
    """The last failure a step recorded in `folder` (process.record_failure), or None; a file
    that is not such a record is passed over."""
    records = []
    for path in folder.glob("*.json"):
        try:
            records.append((path.stat().st_mtime_ns, FailureRecord.read(path)))
        except (OSError, InputError):
            continue
    return max(records, key=lambda item: item[0])[1] if records else None


def _tail(log: Path, lines: int = 15) -> str:
    """The end of run.log: what the failing step printed last, when it recorded nothing."""
    text = log.read_text(errors="replace") if log.is_file() else ""
    return "\n".join(_COLOURS.sub("", line) for line in text.splitlines()[-lines:])


@contextlib.contextmanager
def _environment(name: str, value: str):
    """`name`=`value` in this process's environment (the steps' subprocesses inherit it)."""
    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            del os.environ[name]
        else:
            os.environ[name] = saved


@contextlib.contextmanager
def _root_logging_to(stream):
    """kfp.local also logs through the root logger (skipped branches, clean-up): to `stream`."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)]
    saved = [h.setStream(stream) for h in handlers]
    try:
        yield
    finally:
        for handler, previous in zip(handlers, saved, strict=True):
            handler.setStream(previous)


def run(
    given: dict,
    pairs: list[str],
    runs_root: Path,
    quick: bool,
    verbose: bool,
    mlflow: str | None = None,
    halving: Halving | None = None,
) -> RunSummary:
    """`alexnet-kfp run`: the profile (local, or quick), then the `given` values, then the
    `KEY=VALUE` pairs, checked as the steps will check them before any step starts; then the
    pipeline (a sweep with `halving` when given), logged to the MLflow tracking server `mlflow`
    (default: $MLFLOW_TRACKING_URI) when there is one. A step that refused its input is raised as
    InputError (bad input, exit 2); any other failure as PipelineFailed."""
    check_runnable()
    tracking = check_tracking_uri(mlflow) if mlflow is not None else tracking_uri()
    from alexnet_kfp.data.fetch import is_url, local_path
    from alexnet_kfp.pipeline.arguments import (
        check_arguments,
        parse_parameters,
        pipeline_parameters,
    )
    from alexnet_kfp.pipeline.parameters import is_sweep
    from alexnet_kfp.pipeline.pipeline import alexnet_pipeline
    from alexnet_kfp.pipeline.sweep import local_sweep

    sweep = is_sweep([*given, *(pair.partition("=")[0] for pair in pairs)])
    parameters = {**(QUICK.values if quick else {}), **given}
    declared = pipeline_parameters(local_sweep() if sweep else alexnet_pipeline)
    parameters.update(parse_parameters(pairs, declared))
    if halving is not None and not sweep:
        raise InputError("--halving is the sweep's: add --trials FILE")
    check_arguments(
        {**LOCAL.values, **parameters}, declared, tracked=tracking is not None, halving=halving
    )
    archive = parameters.get("source")
    if archive and not is_url(archive):
        try:  # the data step's own check, before any step starts; the value came from --source
            local_path(archive)
        except InputError as e:
            raise InputError(f"--{e}") from None
    try:
        return run_locally(parameters, runs_root, verbose, sweep, tracking, halving)
    except PipelineFailed as e:
        refusal = e.bad_input()
        if refusal:
            raise InputError(f"{refusal} (full log: {e.log})") from None
        raise


def run_locally(
    parameters: dict,
    runs_root: Path = Path("runs"),
    verbose: bool = False,
    sweep: bool = False,
    tracking: str | None = None,
    halving: Halving | None = None,
) -> RunSummary:
    """Run the pipeline (with `sweep`, the sweep over `parameters["trials"]`, with `halving` its
    successive halving); return a summary
    (accuracy, gate, parity, paths, the sweep's choice). With `tracking` (an MLflow tracking URI)
    the run is one MLflow run with its parameters, each step's run nested under it, as KFP's
    MLflow plugin records a pipeline run. Raises RuntimeError on failure."""
    from kfp import local

    from alexnet_kfp.pipeline.pipeline import build_pipeline
    from alexnet_kfp.pipeline.sweep import local_sweep

    parameters = {**LOCAL.values, **parameters}
    run_dir = _new_run_dir(runs_root)
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(run_dir),
        workspace_root=str(run_dir / "workspace"),  # the train checkpoint; removed after the run
        raise_on_error=True,
    )
    log = (run_dir / "run.log").open("w")
    steps = StepEvents(run_dir / EVENTS_FILE, sys.stdout, quiet=verbose)
    # kfp.local's output and the libraries' warnings: in run.log, and on the terminal when verbose
    console = _Both(sys.stdout, log) if verbose else log
    warnings_to = _Both(sys.stderr, log) if verbose else log
    failures = run_dir / "failures"  # each failing step writes why here (process.record_failure)
    started = time.perf_counter()
    tracker = Tracker("pipeline", tracking)
    try:
        with (
            log,
            steps,
            contextlib.redirect_stdout(console),
            contextlib.redirect_stderr(warnings_to),
            _root_logging_to(warnings_to),
            _environment(FAILURE_RECORDS, str(failures)),
            _environment(EVENTS, str(steps.path)),
            _tracked_run(tracker, run_dir, _run_values(parameters, sweep)),
            children_stopped_with_us(),
        ):
            pipeline = local_sweep(halving) if sweep else build_pipeline(retries=False)
            task = pipeline(**parameters)
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (process.Terminated)
        stop_children()  # what the forwarded signal has not ended yet
        raise RunInterrupted(e, run_dir, runs_root) from None
    except Exception as e:
        record = failure_record(failures)
        said = record.said if record else _tail(run_dir / "run.log")
        raise PipelineFailed(
            f"the pipeline failed ({_COLOURS.sub('', str(e))}); the failing step said:\n{said}\n"
            f"full log: {run_dir / 'run.log'}",
            said,
            run_dir / "run.log",
            record,
        ) from None
    onnx_dir = steps.output("export", "onnx_model")
    summary = RunSummary(
        run_dir=str(run_dir),
        accuracy=task.output,
        gate=gate_of(steps),
        parity=parity_of(steps),
        report=str(run_report(steps) or ""),
        onnx_model=str(onnx_dir / "model.onnx") if onnx_dir else "",
        int8_model=str(onnx_dir / "model.int8.onnx") if onnx_dir else "",
        seconds=round(time.perf_counter() - started, 1),
        parameters=parameters,
        sweep=sweep_of(steps) if sweep else None,
        mlflow=tracking_of(tracker, steps),
    )
    summary.write(run_dir)
    link_outputs(run_dir, runs_root, steps)
    return summary


def _run_values(parameters: dict, sweep: bool) -> dict:
    """Every parameter of the run: the pipeline's defaults under the given values."""
    from alexnet_kfp.pipeline.parameters import parameters_for
    from alexnet_kfp.pipeline.placement import Placement

    return {p.name: p.default for p in parameters_for(Placement(), sweep)} | parameters


@contextlib.contextmanager
def _tracked_run(tracker: Tracker, run_dir: Path, parameters: dict):
    """With a tracking URI: the pipeline's MLflow run (its parameters; FAILED when a step
    failed), and the steps' environment naming the server and this run as their parent."""
    if tracker.uri is None:
        yield
        return
    with contextlib.ExitStack() as stack:
        stack.enter_context(_environment(TRACKING_URI, tracker.uri))
        tracker.start(run_name=f"alexnet-kfp run {run_dir.name}", tags={"run_dir": str(run_dir)})
        tracker.params(
            {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in parameters.items()}
        )
        if tracker.active and tracker.run_id:
            stack.enter_context(_environment(PARENT_RUN_ID, tracker.run_id))
        try:
            yield
        except BaseException:
            tracker.finish(failed=True)
            raise
        tracker.finish()


def _new_run_dir(runs_root: Path) -> Path:
    """RUNS/<UTC timestamp>, made here and now; a second run started in the same second gets
    RUNS/<timestamp>-2 (mkdir is the lock: two runs never share a directory)."""
    make_directory(runs_root, f"--runs {runs_root}")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for attempt in range(1, 1000):
        run_dir = (runs_root / (stamp if attempt == 1 else f"{stamp}-{attempt}")).resolve()
        try:
            run_dir.mkdir()
            return run_dir
        except FileExistsError:
            continue
        except OSError as e:
            reason = e.strerror or e
            raise InputError(f"--runs {runs_root}: cannot write there ({reason})") from None
    raise InputError(f"--runs {runs_root}: 999 runs started in one second")


def check_runnable() -> None:
    if importlib.util.find_spec("kfp") is None:
        raise InputError(f"kfp is not installed: {install_hint(['all'])}")
