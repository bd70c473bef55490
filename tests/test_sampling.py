"""`alexnet-kfp sweep --sample`: trials drawn from a distribution per training parameter, the same
file for the same seed, every value inside its bounds and of its parameter's type, each trial
checked as the plan step checks it; bad distributions and counts refused in one line."""

import json
import math

import pytest

from alexnet_kfp.errors import InputError
from alexnet_kfp.pipeline.sampling import sampled_trials
from alexnet_kfp.train.trials import MAX_TRIALS

from .cli import run_cli_without_tensorflow

pytestmark = pytest.mark.unit

SAMPLES = [
    "learning_rate=loguniform:1e-4:1e-2",
    "variant=choice:article,cifar",
    "batch_size=int:32:256",
    "plateau_factor=uniform:0.1:0.5",
]


def test_the_same_seed_writes_the_same_file_and_another_seed_another(tmp_path):
    flags = [arg for sample in SAMPLES for arg in ("--sample", sample)] + ["--count", 16]
    files = []
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        out = tmp_path / f"{name}.json"
        done = run_cli_without_tensorflow("sweep", *flags, "--seed", seed, "--output", out)
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip() == f"wrote 16 trials to {out}"
        files.append(out.read_bytes())
    assert files[0] == files[1] and files[0] != files[2]
    trials = json.loads(files[0])
    assert len(trials) == 16 and len({json.dumps(t, sort_keys=True) for t in trials}) == 16


def test_every_value_lies_in_its_distribution():
    trials = sampled_trials(SAMPLES, 200, draw_seed=3)
    rates = [t["learning_rate"] for t in trials]
    assert all(1e-4 <= r <= 1e-2 for r in rates)
    # even on a log scale: about half the rates below the geometric middle, 1e-3
    assert 0.35 < sum(r < 1e-3 for r in rates) / len(rates) < 0.65
    assert {t["variant"] for t in trials} == {"article", "cifar"}
    assert all(isinstance(t["batch_size"], int) and 32 <= t["batch_size"] <= 256 for t in trials)
    assert all(0.1 <= t["plateau_factor"] <= 0.5 for t in trials)
    assert all(math.isfinite(r) and len(f"{r:g}") <= 10 for r in rates)  # readable numbers


def test_seeds_repeat_each_drawn_trial():
    trials = sampled_trials(["learning_rate=uniform:1e-3:2e-3"], 3, draw_seed=0, seeds=[0, 1])
    assert [t["seed"] for t in trials] == [0, 1, 0, 1, 0, 1]
    assert trials[0]["learning_rate"] == trials[1]["learning_rate"]


@pytest.mark.parametrize(
    "samples, count, says",
    [
        (["learning_rate=normal:0:1"], 4, "unknown distribution 'normal'"),
        (["learning_rate=loguniform:1e-2:1e-4"], 4, "LOW must be below HIGH"),
        (["learning_rate=loguniform:0:1e-2"], 4, "loguniform needs bounds above 0"),
        (["learning_rate=loguniform:-1:1e-2"], 4, "loguniform needs bounds above 0"),
        (["learning_rate=uniform:nan:1"], 4, "LOW"),
        (["batch_size=uniform:32:64"], 4, "uniform draws numbers; batch_size takes a whole number"),
        (["learning_rate=int:1:3"], 4, "int draws whole numbers"),
        (["epochs=int:0:3"], 4, "epochs"),  # 0 epochs: the train step's own check
        (["learning_rate=uniform:1e-3:1e-2"], MAX_TRIALS + 1, f"1 to {MAX_TRIALS}"),
        (["learning_rate=uniform:1e-3:1e-2"], 0, f"1 to {MAX_TRIALS}"),
        (["variant=choice:article,cifar"], 3, "only 2 distinct trials"),
        (["variant=choice:article,vgg"], 1, "vgg"),
        (["lr=uniform:0:1"], 1, "not a training parameter"),
        (["learning_rate"], 1, "expected KEY=DIST:ARGS"),
        (["learning_rate=uniform:1", "learning_rate=uniform:1:2"], 1, "LOW:HIGH"),
    ],
)
def test_a_bad_sample_is_one_line(samples, count, says):
    with pytest.raises(InputError, match=says):
        sampled_trials(samples, count, draw_seed=0)


def test_the_cli_refuses_mixing_a_grid_and_a_sample_in_one_line(tmp_path):
    done = run_cli_without_tensorflow(
        "sweep", "--grid", "learning_rate=1e-3,1e-4", "--sample", "seed=int:0:9", "--count", 2
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "--grid or --sample, not both" in done.stderr
    count = run_cli_without_tensorflow("sweep", "--grid", "learning_rate=1e-3", "--count", 2)
    assert count.returncode == 2 and "--count draws --sample trials" in count.stderr
    uncounted = run_cli_without_tensorflow("sweep", "--sample", "seed=int:0:9")
    assert uncounted.returncode == 2 and "give --count" in uncounted.stderr
    assert len(uncounted.stderr.strip().splitlines()) == 1
