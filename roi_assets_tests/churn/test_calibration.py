"""Calibrating the stack's probabilities on a later window: synthetic scores whose distortion of
the true risk is known."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from roi_assets.churn.calibration import ISOTONIC, PLATT, ProbabilityCalibrator
from roi_assets.churn.tiers import RISK_TIERS, tier_index
from roi_assets.evaluation.binary_metrics import decile_calibration_error
from roi_assets.evaluation.calibration import truth_gap


def _logit(p):
    return np.log(p / (1 - p))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _draw(rng, n, tail_share):
    """True 30-day risks: most clients near 3 %, `tail_share` of them between 0.3 and 0.9."""
    truth = np.where(rng.random(n) < tail_share, rng.uniform(0.3, 0.9, n), rng.beta(1.5, 45.0, n))
    return truth, (rng.random(n) < truth).astype(int)


def _compressed(truth):
    """What the uncalibrated stack does on the default world: the right order, but too low and
    squeezed (a slope of 0.4 on the logit), so nobody reaches the medium tier."""
    return _sigmoid(-2.6 + 0.4 * _logit(truth))


@pytest.fixture(scope="module")
def windows():
    rng = np.random.default_rng(11)
    return _draw(rng, 20_000, 0.03), _draw(rng, 20_000, 0.03)


@pytest.mark.parametrize("method", [PLATT, ISOTONIC])
def test_calibration_on_one_window_makes_the_next_windows_deciles_match(windows, method):
    (truth, outcomes), (later_truth, later_outcomes) = windows
    raw, later_raw = _compressed(truth), _compressed(later_truth)

    calibrator = ProbabilityCalibrator.fit(raw, outcomes, method)
    calibrated = calibrator.transform(later_raw)

    before = decile_calibration_error(later_outcomes, later_raw)
    after = decile_calibration_error(later_outcomes, calibrated)
    assert before > 0.01 and after < before / 3
    assert truth_gap(calibrated, later_truth) < truth_gap(later_raw, later_truth) / 3
    assert calibrator.rows == len(raw) and calibrator.positives == outcomes.sum()


def test_platt_keeps_the_ranking_so_the_auc_is_unchanged(windows):
    (truth, outcomes), (later_truth, later_outcomes) = windows
    calibrator = ProbabilityCalibrator.fit(_compressed(truth), outcomes, PLATT)
    later_raw = _compressed(later_truth)

    assert calibrator.slope > 1  # the squeezed logits are stretched back
    assert roc_auc_score(later_outcomes, calibrator.transform(later_raw)) == pytest.approx(
        roc_auc_score(later_outcomes, later_raw)
    )


def _tier_counts(probabilities):
    return np.bincount(tier_index(probabilities), minlength=len(RISK_TIERS))


def test_tiers_above_low_fill_when_the_calibrated_risk_reaches_them(windows):
    (truth, outcomes), (later_truth, _) = windows
    calibrator = ProbabilityCalibrator.fit(_compressed(truth), outcomes, PLATT)
    later_raw = _compressed(later_truth)

    before = _tier_counts(later_raw)
    after = _tier_counts(calibrator.transform(later_raw))
    true = _tier_counts(later_truth)

    assert before[1:].sum() == 0  # uncalibrated, everyone is low
    assert true[1:].sum() > 400
    assert after[1:].sum() == pytest.approx(true[1:].sum(), rel=0.15)
    assert after[1] == pytest.approx(true[1], rel=0.25)


def test_tiers_stay_empty_when_no_client_is_that_risky():
    rng = np.random.default_rng(5)
    truth, outcomes = _draw(rng, 20_000, tail_share=0.0)
    calibrator = ProbabilityCalibrator.fit(_compressed(truth), outcomes, PLATT)

    assert _tier_counts(calibrator.transform(_compressed(truth)))[1:].sum() <= 2


@pytest.mark.parametrize("method", [PLATT, ISOTONIC])
def test_a_calibrator_round_trips_through_plain_numbers(windows, method):
    (truth, outcomes), _ = windows
    calibrator = ProbabilityCalibrator.fit(_compressed(truth), outcomes, method)

    restored = ProbabilityCalibrator.from_dict(calibrator.to_dict())

    scores = np.linspace(0.001, 0.5, 200)
    np.testing.assert_array_equal(restored.transform(scores), calibrator.transform(scores))


def test_isotonic_matches_scikit_learns_predictions(windows):
    from sklearn.isotonic import IsotonicRegression

    (truth, outcomes), (later_truth, _) = windows
    raw = _compressed(truth)
    reference = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(raw, outcomes)

    calibrator = ProbabilityCalibrator.fit(raw, outcomes, ISOTONIC)

    later_raw = _compressed(later_truth)
    np.testing.assert_allclose(calibrator.transform(later_raw), reference.predict(later_raw))


def test_calibration_needs_both_outcomes_and_a_known_method():
    with pytest.raises(ValueError, match="both outcomes"):
        ProbabilityCalibrator.fit(np.full(10, 0.1), np.zeros(10, dtype=int))
    with pytest.raises(ValueError, match="method"):
        ProbabilityCalibrator.fit(np.full(2, 0.1), np.array([0, 1]), "beta")
