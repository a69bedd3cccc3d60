import numpy as np
import pytest

from roi_assets.churn.tiers import HIGH_RISK, risk_tier, tier_index
from roi_assets.evaluation.risk_metrics import ALERT_THRESHOLD


def test_each_threshold_belongs_to_the_tier_above_it():
    edges = np.array([0.0, 0.3, 0.6, 0.8, 1.0])
    below = np.nextafter(edges[1:4], 0.0)

    assert list(risk_tier(edges)) == ["low", "medium", "high", "critical", "critical"]
    assert list(risk_tier(below)) == ["low", "medium", "high"]


def test_a_single_probability_gets_a_tier_name():
    assert risk_tier(0.6) == "high"
    assert isinstance(risk_tier(0.1), str)


def test_tier_index_orders_tiers_from_low_to_critical():
    assert list(tier_index([0.05, 0.45, 0.7, 0.95])) == [0, 1, 2, 3]


def test_probabilities_outside_zero_to_one_are_rejected():
    with pytest.raises(ValueError):
        risk_tier([0.2, 1.2])
    with pytest.raises(ValueError):
        risk_tier(np.nan)


def test_the_high_tier_starts_where_the_risk_metrics_raise_an_alert():
    assert HIGH_RISK == ALERT_THRESHOLD
