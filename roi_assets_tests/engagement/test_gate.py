"""Each engagement model is judged on its own evaluation: ≥ 70 % of the oracle's AUC lift over
chance, clearly above the best baseline, not above the oracle."""

from datetime import datetime

import duckdb
import polars as pl
import pytest

from roi_assets.engagement.gate import candidate_decision
from roi_assets.evaluation.model_evaluations import write_model_evaluations


def _evaluation(model_name: str, version: str, auc: float, oracle: float, baseline: float):
    return pl.DataFrame(
        {
            "model_name": [model_name],
            "model_version": [version],
            "metric": ["auc_roc"],
            "value": [auc],
            "oracle_value": [oracle],
            "baseline_value": [baseline],
            "evaluated_at": [datetime(2026, 11, 1, 5, 0)],
            "evaluation_window": ["2026-09-01/2026-10-31"],
        }
    )


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    # the default world's measured figures: opens clear the logistic baseline, clicks do not
    write_model_evaluations(
        connection, _evaluation("roi-engagement-open", "1", 0.723, 0.768, 0.699)
    )
    write_model_evaluations(
        connection, _evaluation("roi-engagement-click", "1", 0.739, 0.800, 0.734)
    )
    yield connection
    connection.close()


def test_an_open_model_with_83_percent_of_the_oracle_s_lift_and_clear_of_the_baseline_passes(
    con,
):
    decision = candidate_decision(con, "roi-engagement-open", "1")
    assert decision is not None and decision.passed


def test_a_click_model_no_better_than_logistic_regression_fails_on_its_own(con):
    decision = candidate_decision(con, "roi-engagement-click", "1")
    assert decision is not None and not decision.passed
    assert any("baseline" in reason for reason in decision.reasons)


def test_a_model_below_90_percent_of_the_oracle_fails(con):
    write_model_evaluations(con, _evaluation("roi-engagement-open", "2", 0.68, 0.768, 0.60))
    decision = candidate_decision(con, "roi-engagement-open", "2")
    assert decision is not None and not decision.passed


def test_a_version_without_evaluation_has_no_verdict(con):
    assert candidate_decision(con, "roi-engagement-open", "7") is None
    assert candidate_decision(con, "roi-engagement-open", None) is None
