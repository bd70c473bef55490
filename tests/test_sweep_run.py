"""The sweep end to end under kfp.local, as a user runs it (`alexnet-kfp sweep`, then
`alexnet-kfp run --trials FILE --halving 2 --rungs 2`): three trials on a tiny Dataset, one whose
rate cannot learn and one whose loss diverges on purpose; the first rung stops all but the best,
which goes on from its checkpoint and alone on to evaluate, export and verify; the table lists all
three, and the run's progress says the failed one failed, once."""

import json
from pathlib import Path

import pytest

from alexnet_kfp.records import FAILED, STOPPED, TRAINED, SweepRecord, TrialRecord

from .cli import run_cli

pytestmark = pytest.mark.e2e


def test_a_halving_sweep_passes_the_best_trial_alone_on_and_survives_a_diverged_one(
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
        "run", "--quick", "--trials", trials, "--halving", 2, "--rungs", 2,
        "--source", small_archive, "--sha256", small_sha256, "--limit-per-class", 20,
        "--epochs", 2, "--min-accuracy", 0, "--runs", runs, "--mlflow", mlflow_server.uri,
        timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    latest = runs / "latest"
    run_dir = latest.resolve()

    # every trial is recorded: the diverged one failed with its reason, one of the others stopped
    # after the first rung (of 2: epoch 1 of 2), the best of them trained on to the full budget
    chosen = SweepRecord.read(latest / "model")
    assert (chosen.halving.eta, chosen.halving.rungs) == (2, 2)
    by_index = {t.index: t for t in chosen.trials}
    assert sorted(by_index) == [0, 1, 2]
    assert by_index[2].status == FAILED and by_index[2].rung == 1
    assert by_index[2].reason.startswith("training diverged: the loss was not a number")
    first_rung = [by_index[0], by_index[1]]
    going_on = max(first_rung, key=lambda t: (t.best_val_accuracy, -t.index))
    (stopped,) = [t for t in first_rung if t is not going_on]
    assert (stopped.status, stopped.rung, stopped.epochs_run) == (STOPPED, 1, 1)
    assert stopped.reason.startswith("not among the best 1 of 3 after rung 1 of 2")
    winner = by_index[chosen.winner]
    assert winner is going_on and (winner.status, winner.rung, winner.epochs_run) == (TRAINED, 2, 2)
    assert TrialRecord.read(latest / "model") == winner
    trained = json.loads((latest / "model" / "train.json").read_text())
    assert trained["checkpoint"]["resumed_after_epoch"] == 1  # went on from its first rung
    assert trained["parameters"]["learning_rate"] == winner.settings["learning_rate"]

    # only the winner goes on: one model evaluated, exported and verified, and it is the winner's
    for step in ("evaluate-op", "export-op", "verify-op", "keep-op", "trial-op-2"):
        assert len(list(run_dir.rglob(step))) == 1, step
    assert len(list(run_dir.rglob("trial-op"))) == 3
    assert (latest / "model").resolve().parent.name == "select-op"

    # the table of every trial, linked from the run, in the report too; the summary names the
    # winner; the progress says each first-rung trial's outcome once, the failed one as failed
    table = (latest / "sweep.md").read_text()
    assert table.startswith(f"# Sweep: 3 trials, trial {winner.index} chosen")
    assert sum(line.startswith("| ") for line in table.splitlines()) == 2 + 3
    assert "| 2 | 1e+30 | 1 of 2 | failed: training diverged" in table
    assert f"| {stopped.index} | " in table and "stopped: not among the best 1 of 3" in table
    report = (latest / "report.html").read_text()
    assert f"<h2>The sweep: trial {winner.index} chosen of 3</h2>" in report
    assert "successive halving, 2 rungs each keeping the best 1/2" in report
    assert "failed: training diverged" in report and "trained to the full budget" in report
    out = result.stdout
    given = json.dumps(winner.given, sort_keys=True)
    assert (
        f"sweep          trial {winner.index} chosen of 3 (1 trained to the full budget, "
        "1 stopped at a rung)"
    ) in out
    assert given in out and f"trials         {latest / 'sweep.md'}" in out
    assert out.count("trial 2, rung 1 of 2: failed: training diverged") == 1
    assert "trial 2, rung 1 of 2: done" not in out and "trial 2 failed" not in out
    assert out.count(f"trial {winner.index}, rung 2 of 2: trained: best val_accuracy") == 1
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["sweep"]["winner"] == winner.index
    assert summary["sweep"]["settings"] == winner.settings
    assert summary["parameters"]["trials"] == json.loads(trials.read_text())
    assert Path(summary["onnx_model"]).is_file()

    # in MLflow: each trial's rung a run of its own under the pipeline's, with its curve; the
    # pipeline's run names the winner and carries its figures
    client = mlflow_server.client()
    pipeline_run = client.get_run(summary["mlflow"]["run_id"])
    nested = client.search_runs(
        [pipeline_run.info.experiment_id],
        f"tags.mlflow.parentRunId = '{pipeline_run.info.run_id}'",
    )
    by_name = {run.info.run_name: run for run in nested}
    expected = {"trial-0-rung-1", "trial-1-rung-1", "trial-2-rung-1", "select", "evaluate"}
    assert expected | {f"trial-{winner.index}-rung-2"} <= set(by_name)
    first = client.get_metric_history(
        by_name[f"trial-{stopped.index}-rung-1"].info.run_id, "val_accuracy"
    )
    assert [m.step for m in first] == [1]
    assert by_name["trial-2-rung-1"].info.status == "FAILED"  # diverged: its run says so
    headline = pipeline_run.data
    assert headline.tags["sweep_winner"] == f"trial-{winner.index}"
    assert headline.tags["sweep_winner.learning_rate"] == str(winner.given["learning_rate"])
    assert headline.metrics["best_val_accuracy"] == pytest.approx(winner.best_val_accuracy)
    assert headline.metrics["test_accuracy"] == pytest.approx(summary["accuracy"])
