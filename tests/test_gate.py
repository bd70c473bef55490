"""The gate's decision and its reason, at and around the thresholds."""

import dataclasses

import pytest

from alexnet_kfp.evaluate.gate import decide

pytestmark = pytest.mark.unit


def test_passes_at_the_threshold_and_fails_just_below():
    assert decide(0.650, 0.650).passed
    failed = decide(0.612, 0.650)
    assert not failed.passed and failed.reason == "accuracy 0.612 < min_accuracy 0.650"


def test_baseline_allows_at_most_max_regression():
    assert decide(0.70, 0.5, baseline_accuracy=0.705, max_regression=0.01).passed
    regressed = decide(0.69, 0.5, baseline_accuracy=0.705, max_regression=0.01)
    assert not regressed.passed
    assert regressed.reason == "accuracy 0.690 < baseline 0.705 - max_regression 0.010 = 0.695"


def test_both_failures_are_named():
    decision = decide(0.40, 0.5, baseline_accuracy=0.7, max_regression=0.0)
    assert (
        not decision.passed and "min_accuracy" in decision.reason and "baseline" in decision.reason
    )


def test_decision_records_its_inputs():
    assert dataclasses.asdict(decide(0.8, 0.6, 0.75, 0.02)) == {
        "passed": True,
        "reason": "accuracy 0.800 >= min_accuracy 0.600 and >= baseline 0.750 - max_regression "
        "0.020",
        "accuracy": 0.8,
        "min_accuracy": 0.6,
        "baseline_accuracy": 0.75,
        "max_regression": 0.02,
    }
