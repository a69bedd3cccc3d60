import math
from datetime import datetime

import duckdb
import polars as pl

from roi_assets.churn.gate import STACK_AUC_TOLERANCE, window_decision, window_gate
from roi_assets.evaluation.model_evaluations import write_model_evaluations

ORACLE_AUC = 0.80


def test_a_stack_tied_with_its_best_member_and_near_the_oracle_passes():
    decision = window_gate(0.7795, ORACLE_AUC, {"forest": 0.7800, "lstm": 0.70})

    assert decision.passed, decision.summary


def test_a_stack_measurably_below_its_best_member_fails_even_near_the_oracle():
    best = 0.79
    decision = window_gate(best - 2 * STACK_AUC_TOLERANCE, ORACLE_AUC, {"forest": best})

    assert not decision.passed
    assert "forest" in decision.summary


def test_a_stack_below_60_percent_of_the_oracle_s_lift_fails_even_above_its_members():
    floor = 0.5 + 0.60 * (ORACLE_AUC - 0.5)
    decision = window_gate(floor - 0.001, ORACLE_AUC, {"forest": 0.60, "lstm": 0.61})

    assert not decision.passed
    assert "of the oracle" in decision.summary


def test_an_undefined_member_auc_never_passes():
    assert not window_gate(0.79, ORACLE_AUC, {"forest": math.nan, "lstm": 0.70}).passed


def _evaluation(model_name: str, aucs: dict[str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "model_name": [model_name] * len(aucs),
            "model_version": ["1"] * len(aucs),
            "metric": list(aucs),
            "value": list(aucs.values()),
            "oracle_value": [ORACLE_AUC] * len(aucs),
            "baseline_value": [None] * len(aucs),
            "evaluated_at": [datetime(2026, 11, 1, 5, 0)] * len(aucs),
            "evaluation_window": ["2026-09-01/2026-10-31"] * len(aucs),
        },
        schema_overrides={"baseline_value": pl.Float64},
    )


def test_each_window_is_judged_on_its_own_evaluation(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    # the default world's figures: 30 days near the data's ceiling, 90 days below its own forest
    write_model_evaluations(
        con,
        _evaluation(
            "roi-churn-30d", {"auc_roc": 0.722, "forest_auc_roc": 0.70, "lstm_auc_roc": 0.64}
        ),
    )
    write_model_evaluations(
        con,
        _evaluation(
            "roi-churn-90d", {"auc_roc": 0.642, "forest_auc_roc": 0.659, "lstm_auc_roc": 0.60}
        ),
    )
    members = ("forest", "lstm")

    assert window_decision(con, "roi-churn-30d", "1", members).passed
    assert not window_decision(con, "roi-churn-90d", "1", members).passed
    assert window_decision(con, "roi-churn-60d", "1", members) is None
    assert window_decision(con, "roi-churn-30d", None, members) is None
