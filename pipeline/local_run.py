"""`alexnet-kfp run`: the whole pipeline on this machine with kfp.local's SubprocessRunner (no
cluster, no Docker). Artifacts land under runs/<UTC timestamp>/. Each failing step records why in
the run's failures/ folder (process.record_failure): the run ends with that one line, not with
whatever kfp.local printed last."""

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
from alexnet_kfp.files import file_name_from, make_directory
from alexnet_kfp.pipeline.profiles import LOCAL, QUICK
from alexnet_kfp.process import (
    FAILURE_RECORDS,
    REFUSED,
    children_stopped_with_us,
    signal_of,
    stop_children,
)
from alexnet_kfp.records import (
    TRAINED,
    MetricsRecord,
    ParityRecord,
    ParitySummary,
    RegistrationRecord,
    RunSummary,
    SweepChoice,
    SweepRecord,
    TrackingSummary,
)
from alexnet_kfp.tracking import Tracker, tracking_uri
from alexnet_kfp.tracking.environment import PARENT_RUN_ID, TRACKING_URI, check_tracking_uri

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# What a quiet run shows of kfp.local's output: each task's start and end, and the steps' own
# progress (epochs, the gate, a sweep's trials); the rest (executor inputs, artifact dumps, library
# warnings) goes to run.log only.
_TASK = re.compile(r"(Executing task|Task) '([\w-]+)'( finished with status (\w+))?")
_PROGRESS = re.compile(
    r"^\s+(epoch \d+/\d+:|gate (passed|failed):|training \w+ |plan: |trial \d+ \w+:|select: |"
    r"mlflow: |register: |unverified archive: )"
)


def _shown(line: str) -> str | None:
    """The line a quiet run prints for one line of kfp.local's output, or None."""
    plain = _ANSI.sub("", line)
    task = _TASK.search(plain)
    if task and (task.group(1) == "Executing task" or task.group(3)):
        return f"{task.group(2)}: {task.group(4) or 'running'}"
    if _PROGRESS.match(plain):
        return f"  {plain.strip()}"
    return None


class _Tee(io.TextIOBase):
    """Everything to `log` and `copy`; to `stream`, every line (verbose) or the shown ones."""

    def __init__(self, stream, log: io.TextIOBase, verbose: bool):
        self.stream, self.log, self.verbose = stream, log, verbose
        self.copy, self.partial = io.StringIO(), ""

    def write(self, text: str) -> int:
        self.copy.write(text)
        self.log.write(text)
        if self.verbose:
            return self.stream.write(text)
        *lines, self.partial = (self.partial + text).split("\n")
        for line in lines:
            shown = _shown(line)
            if shown:
                self.stream.write(shown + "\n")
        return len(text)

    def flush(self) -> None:
        self.log.flush()
        self.stream.flush()


class PipelineFailed(RuntimeError):
    """A step failed; `said` is what it said (its record's one line, else the log's tail), `log`
    the whole log, `record` the step's failure record when it wrote one."""

    def __init__(self, message: str, said: str, log: Path, record: dict | None = None):
        super().__init__(message)
        self.said, self.log, self.record = said, log, record

    def bad_input(self) -> str | None:
        """The step's one-line error when it refused its input (so the run fails as bad input)."""
        if not self.record or self.record.get("kind") != REFUSED:
            return None
        return f"the {self.record['step']} step refused its input: {self.record['reason']}"


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by a signal, its running steps stopped with it: it says what is left."""

    def __init__(self, cause: KeyboardInterrupt, run_dir: Path, runs_root: Path):
        super().__init__(signal_of(cause))
        self.exit_code = getattr(cause, "exit_code", 130)
        self.left = (
            f"its steps were stopped; {run_dir} is incomplete (no summary.json) and "
            f"{runs_root / 'latest'} still names the last finished run"
        )


def failure_record(folder: Path) -> dict | None:
    """The last failure a step recorded in `folder` (process.record_failure), or None."""
    records = []
    for path in folder.glob("*.json"):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and all(
            isinstance(record.get(key), str) for key in ("step", "kind", "said", "reason")
        ):
            records.append((path.stat().st_mtime_ns, record))
    return max(records, key=lambda item: item[0])[1] if records else None


def _tail(log: str, lines: int = 15) -> str:
    return "\n".join(_ANSI.sub("", line) for line in log.splitlines()[-lines:])


def _find(run_dir: Path, name: str) -> Path | None:
    found = sorted(p for p in run_dir.rglob(name) if not p.is_symlink())
    return found[-1] if found else None


def _run_report(run_dir: Path) -> Path | None:
    """The verify step's report (the evaluation with the ONNX results) when the run got that far,
    else the evaluate step's."""
    parity = _find(run_dir, "parity.json")
    if parity and (parity.parent / REPORT).is_file():
        return parity.parent / REPORT
    return _find(run_dir, REPORT)


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
) -> RunSummary:
    """`alexnet-kfp run`: the profile (local, or quick), then the `given` values, then the
    `KEY=VALUE` pairs, checked as the steps will check them before any step starts; then the
    pipeline, logged to the MLflow tracking server `mlflow` (default: $MLFLOW_TRACKING_URI) when
    there is one. A step that refused its input is raised as InputError (bad input, exit 2); any
    other failure as PipelineFailed."""
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
    check_arguments({**LOCAL.values, **parameters}, declared, tracked=tracking is not None)
    archive = parameters.get("source")
    if archive and not is_url(archive):
        try:  # the data step's own check, before any step starts; the value came from --source
            local_path(archive)
        except InputError as e:
            raise InputError(f"--{e}") from None
    try:
        return run_locally(parameters, runs_root, verbose=verbose, sweep=sweep, tracking=tracking)
    except PipelineFailed as e:
        refusal = e.bad_input()
        if refusal:
            raise InputError(f"{refusal} (full log: {e.log})") from None
        raise


def summary_lines(summary: RunSummary, runs_root: Path) -> list[str]:
    """What `alexnet-kfp run` prints at its end: the results and the next commands."""
    from alexnet_kfp.pipeline.parameters import step_arguments

    gate, parity = summary.gate, summary.parity
    latest = runs_root / "latest"
    return [
        f"\nrun finished in {summary.seconds:.0f} s: {summary.run_dir}",
        f"  test accuracy  {summary.accuracy:.4f}",
        f"  gate           {'passed' if gate and gate.passed else 'failed'}: "
        f"{gate.reason if gate else None}",
        *_parity_lines(parity),
        *_sweep_lines(summary.sweep, latest),
        *_tracking_lines(summary.mlflow, step_arguments("register", summary.parameters)),
        f"  report         {latest / 'report.html'}",
        f"  ONNX models    {latest / 'onnx_model'} (model.onnx, model.int8.onnx)",
        f"  repository     {latest / MODEL_REPOSITORY} (both models, as Triton and KServe read)",
        "next:",
        f"  alexnet-kfp predict {latest / 'samples'} --model {latest / 'onnx_model'}",
        f"  alexnet-kfp serve --model {latest / 'onnx_model'}   # needs the serve extra",
    ]


def _parity_lines(parity: ParitySummary | None) -> list[str]:
    """What verify found: Keras vs onnxruntime, and the int8 model against float32."""
    if parity is None:
        return ["  parity         not checked (the run ended before verify)"]
    lines = [
        f"  parity         max |delta p| {parity.max_abs_diff:.2g}, top-1 agreement "
        f"{parity.argmax_agreement:.2%} on {parity.images} images"
    ]
    int8 = parity.int8
    if int8 is not None:
        lines.append(
            f"  int8           accuracy {int8.int8_accuracy:.4f} vs float32 "
            f"{int8.float32_accuracy:.4f}, top-1 agreement {int8.top1_agreement:.2%}"
        )
    return lines


def _tracking_lines(tracking: TrackingSummary | None, registering: dict) -> list[str]:
    """Where the run was logged, and what was registered (`registering`: the register step's
    arguments, its model's name empty when none was asked for), or why nothing was."""
    if not tracking:
        return []
    registration = tracking.registered
    lines = [f"  MLflow         run {tracking.run_id} at {tracking.uri}"]
    if registration is not None and registration.registered:
        alias = f"alias {registration.alias}" if registration.alias else "a trial model: no alias"
        lines.append(f"  registered     {registration.uri} ({alias})")
    elif registering.get("name"):
        why = (
            "the tracker did not take it (see run.log)"
            if registration is not None
            else "the register step did not run"
        )
        lines.append(f"  registered     nothing as {registering['name']}: {why}")
    if tracking.not_logged:
        lines.append(f"  not logged     {', '.join(tracking.not_logged)} (see run.log)")
    return lines


def _sweep_lines(sweep: SweepChoice | None, latest: Path) -> list[str]:
    if not sweep:
        return []
    given = json.dumps(sweep.given, sort_keys=True)
    accuracy = sweep.best_val_accuracy
    return [
        f"  sweep          trial {sweep.winner} chosen of {sweep.count} "
        f"({sweep.trained} trained), val accuracy {accuracy or float('nan'):.4f}: {given}",
        f"  trials         {latest / SWEEP_TABLE}",
    ]


def run_locally(
    parameters: dict,
    runs_root: Path = Path("runs"),
    verbose: bool = False,
    sweep: bool = False,
    tracking: str | None = None,
) -> RunSummary:
    """Run the pipeline (with `sweep`, the sweep over `parameters["trials"]`); return a summary
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
    tee = _Tee(sys.stdout, log, verbose)
    # kfp.local's and the libraries' warnings: on the terminal when verbose, else in run.log
    warnings_to = sys.stderr if verbose else log
    failures = run_dir / "failures"  # each failing step writes why here (process.record_failure)
    started = time.perf_counter()
    tracker = Tracker("pipeline", tracking)
    try:
        with (
            log,
            contextlib.redirect_stdout(tee),
            contextlib.redirect_stderr(warnings_to),
            _root_logging_to(warnings_to),
            _environment(FAILURE_RECORDS, str(failures)),
            _tracked_run(tracker, run_dir, _run_values(parameters, sweep)),
            children_stopped_with_us(),
        ):
            pipeline = local_sweep() if sweep else build_pipeline(retries=False)
            task = pipeline(**parameters)
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (process.Terminated)
        stop_children()  # what the forwarded signal has not ended yet
        raise RunInterrupted(e, run_dir, runs_root) from None
    except Exception as e:
        record = failure_record(failures)
        said = record["said"] if record else _tail(tee.copy.getvalue())
        raise PipelineFailed(
            f"the pipeline failed ({_ANSI.sub('', str(e))}); the failing step said:\n{said}\n"
            f"full log: {run_dir / 'run.log'}",
            said,
            run_dir / "run.log",
            record,
        ) from None
    metrics, parity = _find(run_dir, "metrics.json"), _find(run_dir, "parity.json")
    summary = RunSummary(
        run_dir=str(run_dir),
        accuracy=task.output,
        gate=MetricsRecord.read(metrics).gate if metrics else None,
        parity=_parity_summary(ParityRecord.read(parity)) if parity else None,
        report=str(_run_report(run_dir)),
        onnx_model=str(_find(run_dir, "model.onnx")),
        int8_model=str(_find(run_dir, "model.int8.onnx")),
        seconds=round(time.perf_counter() - started, 1),
        parameters=parameters,
        sweep=_sweep_summary(run_dir) if sweep else None,
        mlflow=_tracking_summary(tracker, run_dir),
    )
    summary.write(run_dir)
    _link_outputs(run_dir, runs_root)
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


def _tracking_summary(tracker: Tracker, run_dir: Path) -> TrackingSummary | None:
    """Where the run was logged and what it registered (the register step's record)."""
    if tracker.uri is None:
        return None
    found = _find(run_dir, RegistrationRecord.FILE)
    return TrackingSummary(
        uri=tracker.uri,
        run_id=tracker.run_id,
        not_logged=sorted(set(tracker.missed)),
        registered=RegistrationRecord.read(found) if found and found.is_file() else None,
    )


def _parity_summary(parity: ParityRecord) -> ParitySummary:
    """The figures of parity.json a run's summary repeats."""
    return ParitySummary(
        images=parity.images,
        max_abs_diff=parity.max_abs_diff,
        argmax_agreement=parity.argmax_agreement,
        passed=parity.passed,
        int8=parity.int8,
    )


def _sweep_summary(run_dir: Path) -> SweepChoice | None:
    """The sweep's choice, from the sweep.json beside the model it passed on."""
    found = _find(run_dir, SweepRecord.FILE)
    if not found:
        return None
    sweep = SweepRecord.read(found)
    winner = next(t for t in sweep.trials if t.index == sweep.winner)
    return SweepChoice(
        count=len(sweep.trials),
        trained=sum(t.status == TRAINED for t in sweep.trials),
        winner=winner.index,
        best_val_accuracy=winner.best_val_accuracy,
        given=winner.given,
        settings=winner.settings,
    )


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


# The run's main artifacts, linked at the top of its run directory under these names.
OUTPUTS = {"onnx_model": "model.onnx", "model": "model.keras", "dataset": "dataset.json"}
REPORT = "report.html"
SWEEP_TABLE = "sweep.md"  # a sweep's table of every trial (the select step's comparison)
SAMPLES = "samples"  # a few test images as PNG files, for the printed `predict` command
MODEL_REPOSITORY = "model_repository"  # the Triton model repository `serve` and KServe read


def _write_samples(dataset_dir: Path, folder: Path, count: int = 4) -> None:
    """The first test image of each of `count` classes, named by its class: something to predict."""
    import numpy as np
    from PIL import Image

    from alexnet_kfp.artifacts import class_names_of
    from alexnet_kfp.data.npz import load_split
    from alexnet_kfp.records import DatasetRecord

    x, y = load_split(dataset_dir, "test")
    names = class_names_of(DatasetRecord.read_if_present(dataset_dir))
    folder.mkdir()
    for label in sorted(set(y.tolist()))[:count]:
        image = x[int(np.flatnonzero(y == label)[0])]
        # the class names come from the archive: never a path of their own
        name = file_name_from(names[label], f"class-{label}")
        Image.fromarray(image).save(folder / f"{name}.png")


def _link_outputs(run_dir: Path, runs_root: Path) -> None:
    """RUN_DIR/onnx_model, model, dataset, model_repository and report.html point into kfp.local's
    task folders, and RUNS/latest to the newest run, so that the next commands need no
    timestamps."""
    for name, marker in OUTPUTS.items():
        found = _find(run_dir, marker)
        if found:
            (run_dir / name).symlink_to(found.parent.relative_to(run_dir), target_is_directory=True)
    repository = _find(run_dir, "config.pbtxt")  # MODEL_REPOSITORY/NAME/config.pbtxt
    if repository:
        target = repository.parent.parent.relative_to(run_dir)
        (run_dir / MODEL_REPOSITORY).symlink_to(target, target_is_directory=True)
    report = _run_report(run_dir)
    if report:
        (run_dir / REPORT).symlink_to(report.relative_to(run_dir))
    comparison = _find(run_dir, "comparison")
    if comparison and comparison.is_file():
        (run_dir / SWEEP_TABLE).symlink_to(comparison.relative_to(run_dir))
    if (run_dir / "dataset").is_dir():
        _write_samples(run_dir / "dataset", run_dir / SAMPLES)
    latest = runs_root / "latest"
    staging = runs_root / f".latest-{run_dir.name}"
    staging.symlink_to(run_dir.name, target_is_directory=True)
    staging.replace(latest)  # atomic: `latest` always names a finished run


def check_runnable() -> None:
    if importlib.util.find_spec("kfp") is None:
        raise InputError(f"kfp is not installed: {install_hint(['all'])}")
