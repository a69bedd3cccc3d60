import math

import numpy as np
import pytest

from roi_assets.evaluation.binary_metrics import (
    METRIC_NAMES,
    binary_metrics,
    choose_threshold,
    expected_calibration_error,
)

# Four rows, each alone in its calibration bin.
OUTCOMES = [0, 0, 1, 1]
SCORES = [0.15, 0.45, 0.35, 0.85]


def test_metrics_match_a_hand_computed_example():
    metrics = binary_metrics(OUTCOMES, SCORES, threshold=0.5)

    # Decided positive: only 0.85 (a positive) → TP 1, FP 0, FN 1.
    assert metrics["precision"] == pytest.approx(1.0)
    assert metrics["recall"] == pytest.approx(0.5)
    assert metrics["f1_score"] == pytest.approx(2 / 3)
    # Positives outrank negatives in 3 of 4 pairs (0.35 < 0.45).
    assert metrics["auc_roc"] == pytest.approx(0.75)
    # Ranked 0.85 (+), 0.45 (−), 0.35 (+): AP = 0.5 × 1 + 0.5 × 2/3.
    assert metrics["pr_auc"] == pytest.approx(5 / 6)
    assert metrics["brier_score"] == pytest.approx((0.15**2 + 0.45**2 + 0.65**2 + 0.15**2) / 4)
    assert metrics["calibration_error"] == pytest.approx((0.15 + 0.45 + 0.65 + 0.15) / 4)
    assert tuple(metrics) == METRIC_NAMES


def test_calibration_error_is_zero_when_every_bin_is_perfectly_calibrated():
    # 30 % of the rows scored 0.3 are positive, 80 % of those scored 0.8.
    outcomes = [1] * 3 + [0] * 7 + [1] * 8 + [0] * 2
    scores = [0.3] * 10 + [0.8] * 10

    assert expected_calibration_error(outcomes, scores) == pytest.approx(0.0, abs=1e-12)


def test_calibration_error_weighs_each_bin_by_its_rows():
    # Bin of 0.3 is perfect (3 of 10); bin of 0.8 has 2 of 5 positive: gap 0.4 on a third of rows.
    outcomes = [1] * 3 + [0] * 7 + [1] * 2 + [0] * 3
    scores = [0.3] * 10 + [0.8] * 5

    assert expected_calibration_error(outcomes, scores) == pytest.approx(0.4 * 5 / 15)


def test_the_chosen_threshold_maximises_f1_on_the_rows_given():
    # Thresholds 0.85, 0.45, 0.35, 0.15 give F1 2/3, 1/2, 4/5, 2/3.
    assert choose_threshold(OUTCOMES, SCORES) == pytest.approx(0.35)


def test_a_larger_beta_favours_recall_in_the_threshold():
    outcomes = [1, 1, 0, 1, 0, 0, 0, 0, 0, 1]
    scores = [0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]

    # At 0.7: precision 3/4, recall 3/4 (F1 0.75, F3 0.75); at 0.1: 2/5, 1 (F1 0.57, F3 0.87).
    assert choose_threshold(outcomes, scores, beta=1.0) == pytest.approx(0.7)
    assert choose_threshold(outcomes, scores, beta=3.0) == pytest.approx(0.1)


def test_metrics_that_are_undefined_are_nan_rather_than_zero():
    metrics = binary_metrics([0, 0, 0], [0.1, 0.2, 0.3], threshold=0.5)

    assert math.isnan(metrics["auc_roc"])
    assert math.isnan(metrics["precision"])
    assert metrics["brier_score"] == pytest.approx((0.01 + 0.04 + 0.09) / 3)


@pytest.mark.parametrize(
    ("outcomes", "scores", "message"),
    [
        ([0, 1], [0.2], "same length"),
        ([0, 2], [0.2, 0.4], "0/1"),
        ([0, 1], [0.2, 1.4], r"\[0, 1\]"),
        ([0, 1], [0.2, np.nan], r"\[0, 1\]"),
    ],
)
def test_malformed_inputs_are_refused(outcomes, scores, message):
    with pytest.raises(ValueError, match=message):
        binary_metrics(outcomes, scores, threshold=0.5)


def test_a_threshold_cannot_be_chosen_from_a_single_outcome():
    with pytest.raises(ValueError, match="both outcomes"):
        choose_threshold([1, 1], [0.2, 0.4])
