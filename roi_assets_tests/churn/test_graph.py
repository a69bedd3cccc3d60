"""The churn domain inside the tiny whole-graph run (the `materialized_world` fixture)."""

import math

import dagster as dg
import polars as pl
import pytest

from roi_assets.churn.ensemble import registered_model_name
from roi_assets.churn.features import PREDICTION_WINDOWS
from roi_assets.churn.tiers import RISK_TIERS, risk_tier
from roi_assets.evaluation.risk_metrics import WATCH_LIST_FRACTION
from roi_assets.resources.tracking import (
    CANDIDATE,
    CHAMPION,
    promote_to_champion,
    version_behind_alias,
)
from roi_assets.resources.warehouse import connect

MART = dg.AssetKey(["marts", "churn_risk"])


def _gate_passed(result) -> bool:
    return next(
        event.asset_check_evaluation_data.passed
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
        and event.asset_check_evaluation_data.check_name == "churn_validation_gate"
    )


def test_every_windows_candidate_is_evaluated_with_its_members_and_the_oracle(materialized_world):
    with connect(read_only=True) as con:
        rows = pl.from_arrow(
            con.execute(
                "select model_name, model_version, metric, value, oracle_value, baseline_value "
                "from monitoring.model_evaluations where model_name like 'roi-churn-%'"
            ).fetch_arrow_table()
        )
    for window in PREDICTION_WINDOWS:
        model_name = registered_model_name(window)
        candidate = rows.filter(
            (pl.col("model_name") == model_name)
            & (pl.col("model_version") == version_behind_alias(model_name, CANDIDATE))
        )
        auc = {row["metric"]: row for row in candidate.iter_rows(named=True)}
        assert {"auc_roc", "forest_auc_roc", "lstm_auc_roc", "base_rate_auc_roc"} <= set(auc)
        assert {"precision_at_high", "alert_accuracy", "false_positive_rate"} <= set(auc)
        assert 0.5 < auc["auc_roc"]["oracle_value"] <= 1
        best_member = max(auc["forest_auc_roc"]["value"], auc["lstm_auc_roc"]["value"])
        assert auc["auc_roc"]["baseline_value"] == pytest.approx(best_member)


def test_the_mart_is_refreshed_in_the_run_exactly_when_the_gate_passes(materialized_world):
    materialized = {
        event.asset_key for event in materialized_world.get_asset_materialization_events()
    }

    assert (MART in materialized) == _gate_passed(materialized_world)


@pytest.fixture(scope="module")
def churn_risk(materialized_world) -> pl.DataFrame:
    """The mart materialised on its own after the tiny run, whatever the tiny gates decided: the
    candidates are made champions, as passed gates would have them."""
    from roi_assets.definitions import defs

    for window in PREDICTION_WINDOWS:
        model_name = registered_model_name(window)
        promote_to_champion(model_name, version_behind_alias(model_name, CANDIDATE))

    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(asset_selection=[MART], instance=dg.DagsterInstance.ephemeral())
    assert result.success
    with connect(read_only=True) as con:
        return pl.from_arrow(con.execute("select * from marts.churn_risk").fetch_arrow_table())


def test_the_mart_has_one_row_per_active_client_and_window(churn_risk):
    with connect(read_only=True) as con:
        active = con.execute(
            "select count(*) from staging.stg_subscriptions where cancelled_date is null"
        ).fetchone()[0]

    assert churn_risk.height == active * len(PREDICTION_WINDOWS)
    assert churn_risk.select("client_id", "window_days").is_duplicated().sum() == 0
    assert sorted(churn_risk["window_days"].unique()) == list(PREDICTION_WINDOWS)


def test_mart_tiers_follow_the_probabilities_and_reasons_go_where_someone_acts(churn_risk):
    assert set(churn_risk["tier"]) <= set(RISK_TIERS)
    assert churn_risk["tier"].to_list() == list(risk_tier(churn_risk["probability"].to_numpy()))
    attention = (churn_risk["tier"] != "low") | churn_risk["on_watch_list"]
    assert churn_risk.filter(~attention)["top_reasons"].null_count() == (~attention).sum()
    assert churn_risk.filter(attention)["recommended_action"].null_count() == 0
    for window in PREDICTION_WINDOWS:
        scored = churn_risk.filter(pl.col("window_days") == window)
        assert scored["on_watch_list"].sum() == math.ceil(WATCH_LIST_FRACTION * scored.height)


def test_the_mart_names_the_champion_version_that_scored_each_window(churn_risk):
    for window in PREDICTION_WINDOWS:
        versions = churn_risk.filter(pl.col("window_days") == window)["model_version"]
        assert set(versions) == {version_behind_alias(registered_model_name(window), CHAMPION)}
