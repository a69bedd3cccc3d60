from datetime import datetime

import numpy as np
import pytest

from roi_assets.evaluation.gate import gate_comparison, validation_gate
from roi_assets.evaluation.oracle_comparison import base_rate_scores, compare_with_oracle
from roi_assets.evaluation.windows import TimeWindow

BASELINES = {"base_rate": 0.50, "logistic_regression": 0.74}


def test_a_model_close_to_the_oracle_and_clearly_above_baselines_passes():
    decision = validation_gate(0.795, 0.80, BASELINES)

    assert decision.passed
    assert len(decision.reasons) == 4
    assert decision.summary.startswith("Validation gate passed")


def test_an_auc_is_judged_on_its_share_of_the_oracle_s_lift_over_chance():
    # 0.78 is 97.5 % of 0.80 but has only 93.3 % of the oracle's 0.30 of lift over a coin
    decision = validation_gate(0.78, 0.80, BASELINES)

    assert not decision.passed
    assert "93.3% of the oracle's lift over chance (0.5)" in decision.reasons[0]
    assert validation_gate(0.78, 0.80, BASELINES, min_fraction_of_oracle=0.9).passed


def test_a_metric_without_a_chance_level_is_judged_on_its_raw_share_of_the_oracle():
    decision = validation_gate(0.78, 0.80, {"majority": 0.2}, metric="accuracy")

    assert decision.passed
    assert "97.5% of the oracle's raw value" in decision.reasons[0]


def test_a_model_better_than_the_oracle_beyond_noise_fails_as_leakage():
    decision = validation_gate(0.83, 0.80, BASELINES)

    assert not decision.passed
    assert "leakage" in decision.reasons[1]
    assert validation_gate(0.805, 0.80, BASELINES).passed  # within sampling noise


def test_a_model_not_clearly_above_a_baseline_fails():
    decision = validation_gate(0.78, 0.80, {"base_rate": 0.5, "logistic_regression": 0.775})

    assert not decision.passed
    assert any("logistic_regression" in reason for reason in decision.reasons)


def test_the_margin_over_baselines_is_configurable():
    assert not validation_gate(0.795, 0.80, BASELINES, min_margin_over_baselines=0.06).passed
    assert validation_gate(0.795, 0.80, BASELINES, min_margin_over_baselines=0.05).passed


def test_a_model_without_oracle_is_judged_on_baselines_and_says_so():
    decision = validation_gate(0.90, None, {"random_forest": 0.85, "lstm": 0.80})

    assert decision.passed
    assert "no oracle" in decision.reasons[0]


def test_a_gate_without_baselines_or_with_an_undefined_score_never_passes():
    assert not validation_gate(0.79, 0.80, {}).passed
    assert not validation_gate(float("nan"), 0.80, BASELINES).passed


def test_the_gate_reads_an_oracle_comparison():
    rng = np.random.default_rng(5)
    truth = 1 / (1 + np.exp(-rng.normal(-1, 1.5, 4000)))
    outcomes = (rng.uniform(size=truth.size) < truth).astype(int)
    comparison = compare_with_oracle(
        outcomes,
        truth,
        truth,
        {"base_rate": base_rate_scores(outcomes, truth.size)},
        model_name="m",
        model_version="1",
        model_threshold=0.3,
        evaluation_window=TimeWindow(datetime(2024, 1, 1), datetime(2024, 1, 2)),
    )

    decision = gate_comparison(comparison)

    assert decision.passed
    assert decision.model_value == pytest.approx(comparison.value("auc_roc", "oracle"))
    assert decision.baseline_values == {"base_rate": pytest.approx(0.5)}
