"""The sweep end to end under kfp.local, as a user runs it (`alexnet-kfp sweep`, then
`alexnet-kfp run --trials FILE`): three trials on a tiny Dataset, one whose rate cannot learn and
one whose loss diverges on purpose; the best by validation goes on alone to evaluate, export and
verify, and the table lists all three."""

import json
from pathlib import Path

import pytest

from alexnet_kfp.records import FAILED, TRAINED, SweepRecord, TrialRecord
from alexnet_kfp.train.selection import best_trial

from .cli import run_cli

pytestmark = pytest.mark.e2e


def test_a_sweep_passes_the_best_trial_alone_on_and_survives_a_diverged_one(
    small_archive, small_sha256, tmp_path, mlflow_server
):
    trials = tmp_path / "trials.json"
    # 1e-3 learns; 1e-9 cannot; 1e30 makes the loss NaN in the first batches
    written = run_cli(
        "sweep", "--grid", "learning_rate=1e-3,1e-9,1e30", "--output", trials, timeout=120
    )
    assert written.returncode == 0, written.stderr
    runs = tmp_path / "runs"
    result = run_cli(
        "run", "--quick", "--trials", trials, "--source", small_archive, "--sha256", small_sha256,
        "--limit-per-class", 20, "--epochs", 2, "--min-accuracy", 0, "--runs", runs,
        "--mlflow", mlflow_server.uri, timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    latest = runs / "latest"
    run_dir = latest.resolve()

    # every trial is recorded; the diverged one as failed with its reason, the others compared
    chosen = SweepRecord.read(latest / "model")
    assert [t.index for t in chosen.trials] == [0, 1, 2]
    assert [t.status for t in chosen.trials] == [TRAINED, TRAINED, FAILED]
    assert chosen.trials[2].reason.startswith("training diverged: the loss was not a number")
    assert chosen.winner == best_trial(chosen.trials).index  # by validation; ties: listed first
    winner = chosen.trials[chosen.winner]
    assert TrialRecord.read(latest / "model") == winner

    # only the winner goes on: one model evaluated, exported and verified, and it is the winner's
    for step in ("evaluate-op", "export-op", "verify-op"):
        assert len(list(run_dir.rglob(step))) == 1, step
    assert len(list(run_dir.rglob("trial-op"))) == 3
    assert (latest / "model").resolve().parent.name == "select-op"
    trained = json.loads((latest / "model" / "train.json").read_text())
    assert trained["parameters"]["learning_rate"] == winner.settings["learning_rate"]

    # the table of every trial, linked from the run, and the summary naming the winner
    table = (latest / "sweep.md").read_text()
    assert table.startswith(f"# Sweep: 3 trials, trial {winner.index} chosen")
    assert sum(line.startswith("| ") for line in table.splitlines()) == 2 + 3
    assert "| 2 | 1e+30 | failed: training diverged" in table
    out = result.stdout
    given = json.dumps(winner.given, sort_keys=True)
    assert f"sweep          trial {winner.index} chosen of 3 (2 trained)" in out
    assert given in out and f"trials         {latest / 'sweep.md'}" in out
    for index in range(3):  # a quiet run shows each trial's outcome
        assert f"  trial {index} {chosen.trials[index].status}:" in out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["sweep"]["winner"] == winner.index
    assert summary["sweep"]["settings"] == winner.settings
    assert summary["parameters"]["trials"] == json.loads(trials.read_text())
    assert Path(summary["onnx_model"]).is_file()

    # in MLflow: each trial a run of its own under the pipeline's, with its curve; the pipeline's
    # run names the winner and carries its figures
    client = mlflow_server.client()
    pipeline_run = client.get_run(summary["mlflow"]["run_id"])
    nested = client.search_runs(
        [pipeline_run.info.experiment_id],
        f"tags.mlflow.parentRunId = '{pipeline_run.info.run_id}'",
    )
    by_name = {run.info.run_name: run for run in nested}
    assert {"trial-0", "trial-1", "trial-2", "select", "evaluate"} <= set(by_name)
    for index in (0, 1):
        curve = client.get_metric_history(by_name[f"trial-{index}"].info.run_id, "val_accuracy")
        assert [m.step for m in sorted(curve, key=lambda m: m.step)] == [1, 2]
    assert by_name["trial-2"].info.status == "FAILED"  # diverged: its run says so
    headline = pipeline_run.data
    assert headline.tags["sweep_winner"] == f"trial-{winner.index}"
    assert headline.tags["sweep_winner.learning_rate"] == str(winner.given["learning_rate"])
    assert headline.metrics["best_val_accuracy"] == pytest.approx(winner.best_val_accuracy)
    assert headline.metrics["test_accuracy"] == pytest.approx(summary["accuracy"])
    assert by_name["select"].data.metrics["trials_trained"] == 2
