import datetime as dt
import math

import numpy as np
import pytest

from roi_assets.evaluation.risk_metrics import (
    COMPARED_METRICS,
    TARGETS,
    churn_risk_metrics,
    compare_churn_risk,
    meets_targets,
    watch_list_mask,
)
from roi_assets.evaluation.windows import TimeWindow

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


def test_the_watch_list_is_the_riskiest_share_of_clients_whatever_their_tier():
    # 3 % of 10 clients rounds up to one: the 0.9; a quarter is three: 0.9, 0.7, 0.65.
    assert np.flatnonzero(watch_list_mask(PROBABILITY)).tolist() == [0]
    assert np.flatnonzero(watch_list_mask(PROBABILITY, 0.25)).tolist() == [0, 1, 3]
    low_tier = np.full(200, 0.05)
    low_tier[[17, 90]] = [0.2, 0.1]
    # 6 of 200: the two raised clients, then ties broken by position
    assert np.flatnonzero(watch_list_mask(low_tier)).tolist() == [0, 1, 2, 3, 17, 90]
    assert not watch_list_mask([]).any()
    with pytest.raises(ValueError, match="fraction"):
        watch_list_mask(PROBABILITY, 0)


def test_precision_at_the_watch_list_counts_who_churned_among_the_listed():
    churned = np.zeros(100, dtype=int)
    churned[[0, 1, 50]] = 1
    ranked = np.linspace(1, 0, 100)  # row 0 riskiest: the list is rows 0, 1, 2

    assert churn_risk_metrics(churned, ranked)["precision_at_watch_list"] == pytest.approx(2 / 3)
    assert churn_risk_metrics(churned, ranked[::-1])["precision_at_watch_list"] == 0.0


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


def _comparison():
    churned = np.array([1, 1, 0, 0, 0, 0, 0, 0])
    scores = {
        "stack": np.array([0.9, 0.7, 0.65, 0.2, 0.1, 0.1, 0.05, 0.05]),
        "forest": np.array([0.8, 0.3, 0.7, 0.6, 0.2, 0.1, 0.1, 0.1]),
        "lstm": np.array([0.6, 0.5, 0.1, 0.7, 0.3, 0.2, 0.1, 0.9]),
        "base_rate": np.full(8, 0.25),
    }
    oracle = np.array([0.95, 0.9, 0.3, 0.2, 0.1, 0.1, 0.05, 0.05])
    return compare_churn_risk(
        churned,
        scores,
        oracle,
        model="stack",
        members=("forest", "lstm"),
        model_name="roi-churn-30d",
        model_version="3",
        evaluation_window=TimeWindow(dt.date(2025, 6, 2), dt.date(2025, 6, 30)),
        evaluated_at=dt.datetime(2025, 7, 1),
    )


def test_the_comparison_names_the_best_member_as_the_stacks_yardstick():
    comparison = _comparison()

    # forest: 0.8 outranks all six stayers, 0.3 four of them → 10 / 12; lstm: 4 + 4 → 8 / 12.
    assert comparison.value("auc_roc") == pytest.approx(1.0)
    assert comparison.value("auc_roc", "forest") == pytest.approx(10 / 12)
    assert comparison.value("auc_roc", "lstm") == pytest.approx(8 / 12)
    assert comparison.best_member == "forest"
    assert comparison.baselines == ("base_rate",)


def test_evaluation_rows_keep_the_stacks_metric_names_and_prefix_every_other_scorer():
    rows = _comparison().evaluation_rows()

    by_metric = {row["metric"]: row for row in rows.iter_rows(named=True)}
    stack_auc = by_metric["auc_roc"]
    assert stack_auc["value"] == pytest.approx(1.0)
    assert stack_auc["oracle_value"] == pytest.approx(1.0)
    assert stack_auc["baseline_value"] == pytest.approx(10 / 12)
    assert by_metric["forest_auc_roc"]["baseline_value"] is None
    assert by_metric["base_rate_auc_roc"]["value"] == pytest.approx(0.5)
    assert {"lstm_precision_at_high", "forest_false_positive_rate"} <= set(by_metric)
    assert set(rows["model_name"]) == {"roi-churn-30d"} and set(rows["model_version"]) == {"3"}
    assert set(rows["evaluation_window"]) == {"2025-06-02/2025-06-30"}
    assert rows.height == 4 * len(COMPARED_METRICS)


def test_the_markdown_table_sets_every_scorer_next_to_the_oracle_and_the_targets():
    table = _comparison().markdown()

    assert "| metric | stack | forest | lstm | base_rate | oracle | target |" in table
    assert "| auc_roc | 1.000 | 0.833 | 0.667 | 0.500 | 1.000 | 0.880 |" in table
    assert "| alerts | 3 |" in table
