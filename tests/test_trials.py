"""A sweep's trials: checked and completed before any trains, written as a grid, and the choice
among them (by validation accuracy, a stated tie rule) with its table, on recorded results."""

import json
import math
from pathlib import Path

import pytest

from alexnet_kfp.errors import InputError
from alexnet_kfp.pipeline.grid import grid_trials, trial_defaults
from alexnet_kfp.records import FAILED, LOST, TRAINED, SweepRecord, TrialRecord
from alexnet_kfp.train.selection import RULE, best_trial, comparison_markdown, select
from alexnet_kfp.train.trials import MAX_TRIALS, plan_trials

from .cli import run_cli_without_tensorflow

pytestmark = pytest.mark.unit

DEFAULTS = trial_defaults()


def test_each_trial_is_completed_over_the_runs_own_settings():
    planned = plan_trials([{"learning_rate": 1e-3}, {"variant": "article", "epochs": 3}], DEFAULTS)
    assert [t["index"] for t in planned] == [0, 1]
    assert planned[0]["given"] == {"learning_rate": 1e-3}
    assert planned[0]["settings"] == {**DEFAULTS, "learning_rate": 1e-3}
    assert planned[1]["settings"] == {**DEFAULTS, "variant": "article", "epochs": 3}
    assert set(DEFAULTS) == {
        "variant", "epochs", "batch_size", "learning_rate", "precision", "seed", "crop_padding",
        "plateau_patience", "plateau_factor", "final_decay_fraction", "require_gpu",
    }  # fmt: skip


def test_numbers_arrive_as_kfp_sends_them():
    # a list parameter reaches the plan step as JSON doubles: 3 is 3.0; a float may be written 1
    (trial,) = plan_trials([{"epochs": 3.0, "learning_rate": 1, "seed": 4294967295.0}], DEFAULTS)
    assert trial["settings"]["epochs"] == 3 and type(trial["settings"]["epochs"]) is int
    assert type(trial["settings"]["learning_rate"]) is float
    assert trial["settings"]["seed"] == 2**32 - 1


@pytest.mark.parametrize(
    ("trials", "said"),
    [
        (None, "trials: expected a non-empty JSON list of objects"),
        ([], "trials: expected a non-empty JSON list of objects"),
        ({"learning_rate": 1e-3}, "trials: expected a non-empty JSON list of objects"),
        ("[{}]", "trials: expected a non-empty JSON list of objects"),
        ([{}] * (MAX_TRIALS + 1), f"trials: {MAX_TRIALS + 1} trials; at most {MAX_TRIALS}"),
        ([{}, 3], "trials: trial 1: expected an object of training settings"),
        ([{}, [["epochs", 3]]], "trials: trial 1: expected an object"),
        ([{"lr": 1e-3}], "trials: trial 0: unknown setting 'lr'; a trial sets any of: batch_size"),
        ([{"min_accuracy": 0.5}], "trials: trial 0: unknown setting 'min_accuracy'"),
        ([{"source": "x.tar.gz"}], "trials: trial 0: unknown setting 'source'"),
        ([{"trials": []}], "trials: trial 0: unknown setting 'trials'"),
        ([{"epochs": True}], "trials: trial 0: epochs=true is not a whole number"),
        ([{"epochs": 2.5}], "trials: trial 0: epochs=2.5 is not a whole number"),
        ([{"epochs": "3"}], 'trials: trial 0: epochs="3" is not a whole number'),
        ([{"epochs": None}], "trials: trial 0: epochs=null is not a whole number"),
        ([{"learning_rate": "1e-3"}], 'trials: trial 0: learning_rate="1e-3" is not a number'),
        ([{"learning_rate": False}], "trials: trial 0: learning_rate=false is not a number"),
        ([{"variant": 1}], "trials: trial 0: variant=1 is not a string"),
        ([{"require_gpu": 1}], "trials: trial 0: require_gpu=1 is not a boolean"),
        ([{"epochs": {"x": 1}}], 'trials: trial 0: epochs={"x": 1} is not a whole number'),
        ([{}, {"epochs": 0}], "trials: trial 1: epochs must be at least 1, got 0"),
        ([{"learning_rate": math.nan}], "trials: trial 0: learning_rate must be a positive number"),
        ([{"learning_rate": math.inf}], "trials: trial 0: learning_rate must be a positive number"),
        ([{"learning_rate": -1e-3}], "trials: trial 0: learning_rate must be a positive number"),
        ([{"plateau_factor": 1.0}], "trials: trial 0: plateau_factor must lie strictly between"),
        ([{"variant": "vgg"}], "trials: trial 0: variant must be one of article, cifar"),
        ([{"precision": "int8"}], "trials: trial 0: precision must be one of auto"),
        ([{"seed": -1}], "trials: trial 0: seed"),
        ([{"seed": 2**32}], "trials: trial 0: seed"),
        ([{"crop_padding": 17}], "trials: trial 0: crop_padding must be at most 16"),
        ([{}, {}], "trials: trial 1 repeats trial 0 ({})"),
        # the same settings written differently: given, or left at the run's own value
        ([{}, {"learning_rate": DEFAULTS["learning_rate"]}], "trials: trial 1 repeats trial 0"),
        ([{"epochs": 3}, {"seed": 1}, {"epochs": 3.0}], "trials: trial 2 repeats trial 0"),
    ],
)
def test_a_bad_list_is_refused_in_one_line_naming_the_trial(trials, said):
    with pytest.raises(InputError) as refused:
        plan_trials(trials, DEFAULTS)
    message = str(refused.value)
    assert message.startswith(said) and "\n" not in message


def test_the_grid_is_the_product_in_the_order_given_seeds_last():
    trials = grid_trials(["learning_rate=1e-3,3e-4", "variant=article,cifar"], [0, 1])
    assert len(trials) == 8
    assert trials[0] == {"learning_rate": 1e-3, "variant": "article", "seed": 0}
    assert trials[1] == {"learning_rate": 1e-3, "variant": "article", "seed": 1}
    assert trials[-1] == {"learning_rate": 3e-4, "variant": "cifar", "seed": 1}
    booleans = grid_trials(["require_gpu=true,False"])
    assert booleans == [{"require_gpu": True}, {"require_gpu": False}]
    assert grid_trials([], [7]) == [{"seed": 7}]


@pytest.mark.parametrize(
    ("axes", "seeds", "said"),
    [
        ([], None, "nothing to sweep"),
        (["learning_rate"], None, "--grid 'learning_rate': expected KEY=V1,V2"),
        (["learning_rate="], None, "--grid 'learning_rate=': expected KEY=V1,V2"),
        (["lr=1e-3"], None, "--grid lr: not a training parameter; one of: batch_size"),
        (["min_accuracy=0.5"], None, "--grid min_accuracy: not a training parameter"),
        (["epochs=1.5"], None, "--grid epochs: '1.5' is not a whole number"),
        (["epochs=3,"], None, "--grid epochs: '' is not a whole number"),
        (["learning_rate=fast"], None, "--grid learning_rate: 'fast' is not a number"),
        (["require_gpu=yes"], None, "--grid require_gpu: 'yes' is not a boolean"),
        (["epochs=1", "epochs=2"], None, "--grid epochs: given twice"),
        (["seed=1"], [2], "--seeds and --grid seed=...: give the seeds once"),
        (["epochs=0,1"], None, "trials: trial 0: epochs must be at least 1"),
        (["learning_rate=nan"], None, "trials: trial 0: learning_rate must be a positive number"),
        (["learning_rate=1e-3,0.001"], None, "trials: trial 1 repeats trial 0"),
        ([], [1, 1], "trials: trial 1 repeats trial 0"),
    ],
)
def test_a_bad_grid_is_refused_in_one_line(axes, seeds, said):
    with pytest.raises(InputError, match="^" + said.replace("(", r"\(").replace("[", r"\[")):
        grid_trials(axes, seeds)


def test_sweep_prints_the_list_that_run_and_submit_take(tmp_path):
    printed = run_cli_without_tensorflow(
        "sweep", "--grid", "learning_rate=1e-3,3e-4", "--grid", "variant=article,cifar",
        "--seeds", "0,1",
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    trials = json.loads(printed.stdout)
    assert len(trials) == 8 and len(printed.stdout.splitlines()) == 10  # one trial a line
    assert plan_trials(trials, DEFAULTS)[7]["given"] == {
        "learning_rate": 3e-4,
        "variant": "cifar",
        "seed": 1,
    }
    out = tmp_path / "trials.json"
    written = run_cli_without_tensorflow("sweep", "--seeds", "0,1,2", "--output", out)
    assert written.returncode == 0 and written.stdout == ""
    assert written.stderr.strip() == f"wrote 3 trials to {out}"
    assert json.loads(out.read_text()) == [{"seed": 0}, {"seed": 1}, {"seed": 2}]
    for bad, said in (
        (["--seeds", "0,x"], "argument --seeds: '0,x' is not a comma-separated list of seeds"),
        (["--grid", "lr=1"], "--grid lr: not a training parameter"),
    ):
        refused = run_cli_without_tensorflow("sweep", *bad)
        assert refused.returncode == 2 and refused.stdout == ""
        assert refused.stderr.startswith(f"alexnet-kfp sweep: error: {said}"), refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1


def _trial(index: int, accuracy: float | None, status: str = TRAINED, **more) -> TrialRecord:
    return TrialRecord(
        index=index,
        given={"learning_rate": 1e-3 * (index + 1)},
        settings={**DEFAULTS, "learning_rate": 1e-3 * (index + 1)},
        status=status,
        reason="" if status == TRAINED else more.pop("reason", "it diverged"),
        attempts=1,
        best_val_accuracy=accuracy,
        best_epoch=3 if accuracy is not None else None,
        epochs_run=4 if accuracy is not None else None,
        decayed_after=more.pop("decayed_after", []),
        wall_seconds=12.0 if accuracy is not None else None,
        images_per_second=100.0 if accuracy is not None else None,
        device="CPU" if accuracy is not None else None,
    )


def test_the_best_of_a_hundred_recorded_trials_by_validation_and_the_tie_rule():
    accuracies = [round(0.5 + 0.3 * math.sin(i * 1.7), 4) for i in range(100)]
    trials = [_trial(i, a) for i, a in enumerate(accuracies)]
    best = max(accuracies)
    assert best_trial(trials).index == accuracies.index(best)
    # a tie goes to the trial listed first, whatever order the records come in
    tied = [_trial(i, 0.7) for i in (5, 2, 9)]
    assert best_trial(tied).index == 2
    # failed and lost trials are never chosen, however they are recorded
    trials[0] = _trial(0, None, FAILED)
    trials[1] = _trial(1, None, LOST, reason="its pod ended without a result 4 times")
    assert best_trial([*trials[:2], _trial(2, 0.1)]).index == 2
    assert "listed first" in RULE and "validation" in RULE


def test_when_every_trial_failed_the_sweep_fails_saying_why_each_did():
    with pytest.raises(InputError) as failed:
        best_trial([_trial(0, None, FAILED), _trial(1, None, LOST, reason="lost 4 times")])
    assert str(failed.value) == (
        "every trial failed, so there is no model to pass on: trial 0 failed: it diverged; "
        "trial 1 lost: lost 4 times"
    )


def _trial_dir(root: Path, record: TrialRecord, with_model: bool) -> Path:
    folder = root / f"iteration-{record.index}" / "model"
    folder.mkdir(parents=True)
    record.write(folder)
    if with_model:
        (folder / "model.keras").write_text(f"weights of trial {record.index}")
    return folder


def test_select_passes_on_the_winners_directory_with_every_trial_beside_it(tmp_path):
    records = [
        _trial(0, 0.61, decayed_after=[5, 9]),
        _trial(1, None, FAILED, reason="loss | nan\nat epoch 1"),
        _trial(2, 0.74),
        _trial(3, 0.74),
    ]
    # KFP collects the trials in any order: the choice reads their records, not their places
    folders = [_trial_dir(tmp_path, r, r.status == TRAINED) for r in reversed(records)]
    sweep = select(folders, tmp_path / "chosen")
    assert sweep.winner == 2 and [t.index for t in sweep.trials] == [0, 1, 2, 3]
    chosen = tmp_path / "chosen"
    assert (chosen / "model.keras").read_text() == "weights of trial 2"
    assert TrialRecord.read(chosen).index == 2
    assert SweepRecord.read(chosen) == sweep
    table = comparison_markdown(sweep)
    lines = table.splitlines()
    assert lines[0] == "# Sweep: 4 trials, trial 2 chosen"
    rows = [line for line in lines if line.startswith("| ")]
    assert len(rows) == 2 + 4  # header, rule, a row per trial
    assert rows[0].split(" | ")[1] == "learning_rate"
    assert rows[2].startswith("| 0 | 0.001 | trained | 0.6100 | 3 | 4 | 5, 9 | 12 s | CPU |")
    assert rows[4].startswith("| **2** (chosen) | 0.003 | trained | 0.7400 |")
    # a reason is one cell: its separators escaped, its line breaks flattened
    assert "failed: loss \\| nan at epoch 1 |" in rows[3]
    assert all(row.count(" | ") == rows[0].count(" | ") for row in rows[2:])


def test_select_refuses_a_folder_that_is_not_a_trials(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "trial.json").write_text(json.dumps({"kind": "alexnet-kfp/model"}))
    with pytest.raises(InputError, match="trial.json: not a trial.json that alexnet-kfp"):
        select([folder], tmp_path / "chosen")
    assert not (tmp_path / "chosen").exists()
