"""Successive halving's rule without training: where each rung ends, how many trials go on, which
ones (failures never among them, ties to the trial listed first), what it costs in epochs, and
every bad setting refused in one line, by the library and by `run` and `compile`."""

import itertools

import pytest

from alexnet_kfp.errors import InputError
from alexnet_kfp.evaluate.report_sweep import sweep_section
from alexnet_kfp.pipeline.grid import trial_defaults
from alexnet_kfp.records import (
    FAILED,
    LOST,
    STOPPED,
    TRAINED,
    HalvingRecord,
    SweepRecord,
    TrialRecord,
)
from alexnet_kfp.train.halving import (
    ETAS,
    RUNGS,
    Halving,
    keep_best,
    planned_of,
    read_stopped,
    write_trials,
)
from alexnet_kfp.train.selection import RULE
from alexnet_kfp.train.trials import plan_trials

from .cli import run_cli_without_tensorflow

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("eta", "rungs"), list(itertools.product(ETAS, RUNGS)))
def test_rungs_end_at_the_budget_over_powers_of_eta(eta, rungs):
    halving = Halving(eta, rungs).check()
    least = eta ** (rungs - 1)
    for epochs in (least, least + 1, 2 * least - 1, 100, 1000):
        ends = halving.rung_epochs(epochs)
        assert len(ends) == rungs and ends[-1] == epochs
        assert ends == [epochs // eta ** (rungs - 1 - r) for r in range(rungs)]
        assert all(a < b for a, b in itertools.pairwise([0, *ends]))
    with pytest.raises(InputError, match=f"epochs={least - 1} is too small to halve"):
        halving.rung_epochs(least - 1)


def test_nine_trials_by_three_over_three_rungs_cost_26_percent_of_the_epochs():
    halving = Halving(3, 3).check()
    assert halving.rung_epochs(27) == [3, 9, 27]
    assert [halving.kept(9), halving.kept(3)] == [3, 1]
    # 9 x 3 + 3 x 6 + 1 x 18 = 63 of 9 x 27 = 243
    assert halving.epochs_spent(9, 27) == 63
    assert halving.epochs_spent(9, 27) / (9 * 27) == pytest.approx(0.259, abs=1e-3)
    assert halving.kept(2) == 1 and halving.kept(16) == 5  # at least one goes on


@pytest.mark.parametrize(
    ("eta", "rungs", "said"),
    [
        (1, 3, "--halving must be 2 to 4, got 1"),
        (5, 3, "--halving must be 2 to 4, got 5"),
        (3, 1, "--rungs must be 2 to 4, got 1"),
        (3, 5, "--rungs must be 2 to 4, got 5"),
    ],
)
def test_eta_and_rungs_out_of_range_are_refused(eta, rungs, said):
    with pytest.raises(InputError, match=f"^{said}$"):
        Halving(eta, rungs).check()


def _trial(index: int, accuracy: float | None, status: str = TRAINED) -> TrialRecord:
    return TrialRecord(
        index, {"seed": index}, {"seed": index}, status, "" if status == TRAINED else "why", 1,
        best_val_accuracy=accuracy, rung=1,
    )  # fmt: skip


def test_the_best_third_goes_on_and_the_rest_stop_with_their_reason():
    trials = [_trial(0, 0.40), _trial(1, 0.55), _trial(2, 0.30), _trial(3, 0.55),
              _trial(4, None, FAILED), _trial(5, 0.50), _trial(6, None, LOST),
              _trial(7, 0.10), _trial(8, 0.45)]  # fmt: skip
    going_on, stopped = keep_best(trials, Halving(3, 3), 0)
    # a tie (1 and 3 at 0.55) goes to the trial listed first; failures are never kept
    assert [t.index for t in going_on] == [1, 3, 5]
    assert [t.index for t in stopped] == [0, 2, 4, 6, 7, 8]
    by_index = {t.index: t for t in stopped}
    assert (by_index[4].status, by_index[6].status) == (FAILED, LOST)  # failures keep their own
    assert by_index[0].status == STOPPED
    assert by_index[0].reason == ("not among the best 3 of 9 after rung 1 of 3 (0.4000 < 0.5000)")


def test_fewer_trained_trials_than_kept_all_go_on_and_none_trained_is_one_line():
    trials = [_trial(0, None, FAILED), _trial(1, 0.2), _trial(2, None, FAILED)]
    going_on, stopped = keep_best(trials, Halving(2, 2), 0)
    assert [t.index for t in going_on] == [1] and [t.index for t in stopped] == [0, 2]
    with pytest.raises(InputError, match=r"^every trial failed in rung 2, so none goes on: "
                       r"trial 0 failed: why; trial 2 failed: why$"):  # fmt: skip
        keep_best([trials[0], trials[2]], Halving(2, 2), 1)


def test_stopped_trials_pass_between_steps_as_a_file_with_whole_numbers_kept(tmp_path):
    trials = [_trial(0, 0.4), _trial(1, None, FAILED)]
    path = tmp_path / "stopped"
    write_trials(trials, path)
    again = read_stopped(path)
    assert again == trials and isinstance(again[0].index, int)
    assert planned_of(trials[0]) == {"index": 0, "given": {"seed": 0}, "settings": {"seed": 0}}
    for text, said in (("{", "not a JSON file"), ("{}", "expected a JSON list"),
                       ('[{"kind": "x"}]', "not a trial.json")):  # fmt: skip
        path.write_text(text)
        with pytest.raises(InputError, match=said):
            read_stopped(path)


def test_the_plan_refuses_a_budget_too_small_and_too_few_trials():
    defaults = trial_defaults()
    halving = Halving(3, 3)
    with pytest.raises(InputError, match=r"^trials: trial 1: epochs=8 is too small to halve 2 "):
        plan_trials([{"epochs": 27}, {"epochs": 8}, {"epochs": 9}], defaults, halving)
    with pytest.raises(InputError, match=r"^trials: halving by 3 needs at least 3 trials, got 2$"):
        plan_trials([{"seed": 1}, {"seed": 2}], defaults, halving)
    assert len(plan_trials([{"seed": s} for s in range(3)], defaults, halving)) == 3


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["run", "--halving", "3"], "--halving is the sweep's: add --trials FILE"),
        (["run", "--rungs", "3"], "--rungs is successive halving's: add --halving ETA"),
        (["run", "--trials", "{t}", "--halving", "5"], "--halving must be 2 to 4, got 5"),
        (["run", "--trials", "{t}", "--halving", "2", "--rungs", "9"], "--rungs must be 2 to 4"),
        (["run", "--trials", "{t}", "--halving", "two"], "--halving: 'two' is not a whole"),
        (["run", "--trials", "{t}", "--halving", "3", "--epochs", "8"], "trial 0: epochs=8 is"),
        (["run", "--trials", "{t}", "--halving", "4", "--rungs", "2"], "by 4 needs at least 4"),
        (["compile", "--halving", "3"], "--halving is the sweep's"),
        (["compile", "--sweep", "--halving", "3", "--no-checkpoint"], "drop --no-checkpoint"),
        (["compile", "--sweep", "--halving", "3", "--trials", "{t}"], "at least 3 trials, got 2"),
    ],
)
def test_bad_halving_flags_are_one_line_and_exit_2_before_anything_runs(tmp_path, args, said):
    trials = tmp_path / "trials.json"
    trials.write_text('[{"learning_rate": 0.001}, {"learning_rate": 0.0003}]')
    out = tmp_path / "out.yaml"
    args = [a.replace("{t}", str(trials)) for a in args]
    if args[0] == "compile":
        args += ["--output", str(out)]
    else:
        args += ["--runs", str(tmp_path / "runs")]
    done = run_cli_without_tensorflow(*args)
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not out.exists() and not (tmp_path / "runs").exists()


def test_the_reports_sweep_table_names_every_trial_its_rung_and_why_and_escapes_them():
    hostile = _trial(2, None, FAILED)
    hostile.reason = "<script>alert(1)</script>"
    stopped = _trial(0, 0.3)
    stopped.status, stopped.reason = STOPPED, "not among the best 1 of 3 after rung 1 of 2"
    winner = _trial(1, 0.5)
    winner.rung = 2
    sweep = SweepRecord(RULE, 1, [stopped, winner, hostile], HalvingRecord(2, 2))
    page = sweep_section(sweep)
    assert page.startswith("<h2>The sweep: trial 1 chosen of 3</h2>")
    assert (
        "successive halving, 2 rungs each keeping the best 1/2; 1 trained to the full budget"
        in page
    )
    assert "<td><b>1 (chosen)</b></td><td>1</td><td>2 of 2</td><td>0.5000</td>" in page
    assert "stopped: not among the best 1 of 3 after rung 1 of 2" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert sweep_section(None) == ""
