"""The learning-rate schedule knows the budget: a run whose validation accuracy never stalls still
trains its last epochs at a decayed rate, and a run whose plateau rule fired in time is unchanged.
train.json says which rule fired when."""

import json

import pytest

from alexnet_kfp.errors import InputError
from alexnet_kfp.records import LearningRateDecay
from alexnet_kfp.train.config import TrainConfig
from alexnet_kfp.train.fit import train
from alexnet_kfp.train.schedule import final_epochs

from .test_resume import _same_model


def _rates(model_dir) -> list[float]:
    return [e["lr"] for e in json.loads((model_dir / "history.json").read_text())]


@pytest.mark.integration
def test_a_run_that_never_stalls_ends_at_a_decayed_rate(tiny_dataset, tmp_path):
    # patience 100: the plateau rule cannot fire within 4 epochs, as in a run that keeps creeping up
    config = TrainConfig(
        variant="article", epochs=4, plateau_patience=100, final_decay_fraction=0.25
    )
    config.precision = "float32"
    record = train(tiny_dataset, tmp_path / "model", config)
    assert _rates(tmp_path / "model") == pytest.approx([1e-3, 1e-3, 1e-3, 2e-4])
    assert record.learning_rate_decays == [
        LearningRateDecay(after_epoch=3, rule="final", lr=pytest.approx(2e-4))
    ]
    off = TrainConfig(**{**config.__dict__, "final_decay_fraction": 0.0})
    train(tiny_dataset, tmp_path / "off", off)
    assert _rates(tmp_path / "off") == pytest.approx([1e-3] * 4)


@pytest.mark.integration
def test_a_plateau_that_fired_in_time_is_left_alone(tiny_dataset, tmp_path):
    # min_delta 1: every epoch after the first is a plateau, so patience 1 decays after each one
    plateau = dict(plateau_patience=1, plateau_min_delta=1.0, plateau_factor=0.5)
    runs = {}
    for fraction in (0.25, 0.0):
        out = tmp_path / f"fraction-{fraction}"
        config = TrainConfig(
            variant="article",
            epochs=4,
            precision="float32",
            final_decay_fraction=fraction,
            **plateau,
        )
        runs[fraction] = train(tiny_dataset, out, config)
    assert _rates(tmp_path / "fraction-0.25") == pytest.approx([1e-3, 1e-3, 5e-4, 2.5e-4])
    assert _same_model(tmp_path / "fraction-0.25", tmp_path / "fraction-0.0")
    assert [d.rule for d in runs[0.25].learning_rate_decays] == ["plateau", "plateau"]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("epochs", "fraction", "final"),
    [(30, 0.15, 5), (8, 0.15, 2), (100, 0.15, 15), (1, 0.15, 1), (10, 0.0, 0), (20, 0.1, 2)],
)
def test_the_final_epochs_follow_from_the_budget(epochs, fraction, final):
    assert (
        final_epochs(TrainConfig(variant="article", epochs=epochs, final_decay_fraction=fraction))
        == final
    )


@pytest.mark.unit
@pytest.mark.parametrize("fraction", [-0.1, 1.0, float("nan")])
def test_a_fraction_outside_0_1_is_refused(fraction):
    with pytest.raises(InputError, match="final_decay_fraction must lie in"):
        TrainConfig(final_decay_fraction=fraction).check()
