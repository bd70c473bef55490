"""A local run's summary: made from the records its steps wrote where their outputs are (the steps'
finished events say where), and the lines `alexnet-kfp run` prints at its end."""

import json
from pathlib import Path

from alexnet_kfp.pipeline.run_events import StepEvents
from alexnet_kfp.records import (
    STOPPED,
    TRAINED,
    Gate,
    MetricsRecord,
    ParityRecord,
    ParitySummary,
    RegistrationRecord,
    RunSummary,
    SweepChoice,
    SweepRecord,
    TrackingSummary,
)
from alexnet_kfp.tracking import Tracker

REPORT = "report.html"
SWEEP_TABLE = "sweep.md"  # a sweep's table of every trial (the select step's comparison)
MODEL_REPOSITORY = "model_repository"  # the Triton model repository `serve` and KServe read


def trained_model(steps: StepEvents) -> Path | None:
    """The Model directory the run passed on: train's, or a sweep's chosen trial's."""
    return steps.output("train", "model") or steps.output("select", "model")


def run_report(steps: StepEvents) -> Path | None:
    """The verify step's report (the evaluation with the ONNX results) when the run got that far,
    else the evaluate step's."""
    for step, name in (("verify", "parity_report"), ("evaluate", "evaluation")):
        folder = steps.output(step, name)
        if folder is not None and (folder / REPORT).is_file():
            return folder / REPORT
    return None


def gate_of(steps: StepEvents) -> Gate | None:
    evaluation = steps.output("evaluate", "evaluation")
    return MetricsRecord.read(evaluation).gate if evaluation else None


def parity_of(steps: StepEvents) -> ParitySummary | None:
    """The figures of parity.json a run's summary repeats."""
    folder = steps.output("verify", "parity_report")
    if folder is None:
        return None
    parity = ParityRecord.read(folder)
    return ParitySummary(
        images=parity.images,
        max_abs_diff=parity.max_abs_diff,
        argmax_agreement=parity.argmax_agreement,
        passed=parity.passed,
        int8=parity.int8,
    )


def sweep_of(steps: StepEvents) -> SweepChoice | None:
    """The sweep's choice, from the sweep.json beside the model it passed on."""
    model = steps.output("select", "model")
    if model is None:
        return None
    sweep = SweepRecord.read(model)
    winner = next(t for t in sweep.trials if t.index == sweep.winner)
    return SweepChoice(
        count=len(sweep.trials),
        trained=sum(t.status == TRAINED for t in sweep.trials),
        winner=winner.index,
        best_val_accuracy=winner.best_val_accuracy,
        given=winner.given,
        settings=winner.settings,
        stopped=sum(t.status == STOPPED for t in sweep.trials) if sweep.halving else None,
        halving=sweep.halving,
    )


def tracking_of(tracker: Tracker, steps: StepEvents) -> TrackingSummary | None:
    """Where the run was logged, what the run and its steps could not log, and what it registered
    (the register step's record)."""
    if tracker.uri is None:
        return None
    registration = steps.output("register", "registration")
    return TrackingSummary(
        uri=tracker.uri,
        run_id=tracker.run_id,
        not_logged=sorted(set(tracker.missed)) + steps.not_logged,
        registered=RegistrationRecord.read(registration) if registration else None,
    )


def summary_lines(summary: RunSummary, runs_root: Path) -> list[str]:
    """What `alexnet-kfp run` prints at its end: the results and the next commands."""
    from alexnet_kfp.pipeline.parameters import step_arguments

    gate = summary.gate
    latest = runs_root / "latest"
    return [
        f"\nrun finished in {summary.seconds:.0f} s: {summary.run_dir}",
        f"  test accuracy  {summary.accuracy:.4f}",
        f"  gate           {'passed' if gate and gate.passed else 'failed'}: "
        f"{gate.reason if gate else None}",
        *_parity_lines(summary.parity),
        *_sweep_lines(summary.sweep, latest),
        *_tracking_lines(summary.mlflow, step_arguments("register", summary.parameters)),
        f"  report         {latest / REPORT}",
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
    trained = f"{sweep.trained} trained"
    if sweep.halving:
        trained += f" to the full budget, {sweep.stopped} stopped at a rung"
    return [
        f"  sweep          trial {sweep.winner} chosen of {sweep.count} "
        f"({trained}), val accuracy {accuracy or float('nan'):.4f}: {given}",
        f"  trials         {latest / SWEEP_TABLE}",
    ]
