"""The engagement domain inside the tiny whole-graph run (the `materialized_world` fixture)."""

import dagster as dg
import polars as pl
import pytest

from roi_assets.engagement.assets import SCORE_COLUMNS, TARGETS
from roi_assets.engagement.gate import candidate_decision
from roi_assets.engagement.scoring import SCORING_TABLE
from roi_assets.resources.tracking import CANDIDATE, promote_to_champion, version_behind_alias
from roi_assets.resources.warehouse import connect

ACTION_MODEL = "roi-engagement-action"
MART = dg.AssetKey(["marts", "engagement_scores"])


def _check_passed(result, name: str) -> bool:
    return next(
        event.asset_check_evaluation_data.passed
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
        and event.asset_check_evaluation_data.check_name == name
    )


def test_the_action_model_is_registered_evaluated_against_the_oracle_and_gated(
    materialized_world,
):
    version = version_behind_alias(ACTION_MODEL, CANDIDATE)
    with connect(read_only=True) as con:
        auc = con.execute(
            "select value, oracle_value, baseline_value from monitoring.model_evaluations "
            "where model_name = ? and model_version = ? and metric = 'auc_roc'",
            [ACTION_MODEL, str(version)],
        ).fetchone()
        decision = candidate_decision(con, ACTION_MODEL, version)

    assert 0.5 < auc[1] <= 1 and auc[2] is not None
    assert _check_passed(materialized_world, "engagement_action_validation_gate") == decision.passed


@pytest.fixture(scope="module")
def engagement_scores(materialized_world) -> pl.DataFrame:
    """The mart materialised on its own after the tiny run, whatever the tiny gates decided: the
    candidates are made champions, as passed gates would have them."""
    from roi_assets.definitions import defs

    for model_name in TARGETS.values():
        promote_to_champion(model_name, version_behind_alias(model_name, CANDIDATE))
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(asset_selection=[MART], instance=dg.DagsterInstance.ephemeral())
    assert result.success
    with connect(read_only=True) as con:
        return pl.from_arrow(
            con.execute("select * from marts.engagement_scores").fetch_arrow_table()
        )


def test_every_active_client_is_scored_for_an_email_sent_at_the_scoring_moment(engagement_scores):
    with connect(read_only=True) as con:
        scoring = con.execute(f"select client_id, scoring_at from {SCORING_TABLE}").pl()
        active = con.execute(
            "select count(*) from staging.stg_subscriptions where cancelled_date is null"
        ).fetchone()[0]

    assert engagement_scores.height == active
    assert engagement_scores.join(scoring, on=["client_id", "scoring_at"]).height == active
    for column in SCORE_COLUMNS.values():
        assert engagement_scores[column].is_between(0, 1).all(), column
        assert engagement_scores[f"{column}_model_version"].null_count() == 0
