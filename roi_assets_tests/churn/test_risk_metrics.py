import math

import pytest

from roi_assets.evaluation.risk_metrics import TARGETS, churn_risk_metrics, meets_targets

CHURNED = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
PROBABILITY = [0.9, 0.7, 0.2, 0.65, 0.1, 0.3, 0.5, 0.05, 0.59, 0.6]


def test_metrics_of_a_hand_checked_example():
    # Alerts (p >= 0.6): rows 0, 1 churned, rows 3, 9 stayed → TP 2, FP 2, FN 1, TN 5.
    # AUC: 0.9 and 0.7 outrank all 7 stayers, 0.2 outranks 0.1 and 0.05 → 16 / 21.
    metrics = churn_risk_metrics(CHURNED, PROBABILITY)

    assert metrics["auc_roc"] == pytest.approx(16 / 21)
    assert metrics["precision_at_high"] == pytest.approx(2 / 4)
    assert metrics["alert_accuracy"] == pytest.approx(7 / 10)
    assert metrics["false_positive_rate"] == pytest.approx(2 / 7)
    assert metrics["alerts"] == 4 and metrics["clients"] == 10
    assert metrics["churn_rate"] == pytest.approx(0.3)


def test_undefined_metrics_are_nan_rather_than_zero():
    metrics = churn_risk_metrics([0, 0, 0], [0.1, 0.2, 0.3])

    assert math.isnan(metrics["auc_roc"])
    assert math.isnan(metrics["precision_at_high"])
    assert metrics["false_positive_rate"] == 0.0


def test_targets_treat_false_positive_rate_as_an_upper_bound():
    at_target = dict(TARGETS)
    passing = meets_targets(at_target)

    assert passing == {
        "auc_roc": True,
        "precision_at_high": True,
        "alert_accuracy": True,
        "false_positive_rate": False,
    }
    assert meets_targets({**at_target, "false_positive_rate": 0.1})["false_positive_rate"]
    assert not meets_targets({**at_target, "auc_roc": math.nan})["auc_roc"]
