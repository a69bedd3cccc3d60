"""The send-time assets in the tiny run of the whole graph (`materialized_world`)."""

import dagster as dg
import mlflow
import numpy as np
import pytest

from roi_assets.resources.tracking import CANDIDATE, CHALLENGER, CHAMPION, version_behind_alias
from roi_assets.resources.warehouse import connect
from roi_assets.send_time.assets import MODEL_NAME
from roi_assets.send_time.environment import STATE_FEATURES
from roi_assets.send_time.evaluation import ENGAGEMENT_HOUR
from roi_assets.send_time.gate import gate_verdict

RECOMMENDATIONS = dg.AssetKey(["marts", "send_time_recommendations"])
HISTORY_FEATURES = (
    "lifetime_open_rate",
    "recent_open_rate_30d",
    "click_through_rate",
    "email_frequency_score",
)


def check_results(result) -> dict[str, bool]:
    return {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def evaluation_rows(con, version: str) -> dict[str, tuple]:
    rows = con.execute(
        "select metric, value, oracle_value, baseline_value from monitoring.model_evaluations "
        "where model_name = ? and model_version = ?",
        [MODEL_NAME, version],
    ).fetchall()
    return {metric: values for metric, *values in rows}


def test_the_tiny_run_evaluates_the_candidate_next_to_random_historical_best_and_oracle(
    materialized_world,
):
    version = version_behind_alias(MODEL_NAME, CANDIDATE)
    with connect(read_only=True) as con:
        rows = evaluation_rows(con, str(version))
    value, oracle, historical_best = rows["expected_open_rate"]
    _, _, random_hour = rows["expected_open_rate_vs_random"]
    assert random_hour < historical_best < oracle
    assert random_hour < value <= oracle
    assert {"click_uplift_vs_random_pct", "iterations_to_convergence", "replay_open_rate"} <= set(
        rows
    )


def beats(rows: dict, rate: str, margin: str) -> bool:
    return rows[rate][0] - rows[rate][2] > rows[margin][0]


def test_the_gate_passes_exactly_when_the_dqn_beats_every_baseline_beyond_the_noise_margin(
    materialized_world,
):
    version = str(version_behind_alias(MODEL_NAME, CANDIDATE))
    with connect(read_only=True) as con:
        rows = evaluation_rows(con, version)
    dqn_beats_all = all(
        beats(rows, rate, f"{rate}_noise_margin")
        for rate in (
            "expected_open_rate",
            "expected_open_rate_vs_random",
            "expected_open_rate_vs_engagement_hour",
        )
    )
    fallback = beats(
        rows, "engagement_hour_open_rate", "engagement_hour_vs_population_noise_margin"
    )
    assert check_results(materialized_world)["send_time_validation_gate"] is dqn_beats_all
    materialized = {e.asset_key for e in materialized_world.get_asset_materialization_events()}
    # a failed gate still publishes when the engagement hour beats the population's best hour
    assert (RECOMMENDATIONS in materialized) is (dqn_beats_all or fallback)


def test_logged_send_states_repeat_the_engagement_features_at_each_send(materialized_world):
    columns = ", ".join(f"s.{name}, f.{name}" for name in HISTORY_FEATURES)
    with connect(read_only=True) as con:
        pairs = con.execute(
            f"select {columns} from features.feat_send_time_logged_sends as s "
            "join features.feat_email_engagement as f using (send_id)"
        ).fetchnumpy()
    assert len(pairs["lifetime_open_rate"]) > 1_000
    for name in HISTORY_FEATURES:
        assert np.allclose(pairs[name], pairs[f"{name}_1"], atol=1e-6), name


@pytest.fixture(scope="module")
def recommended(materialized_world):
    """The recommendations mart materialized on its own: the tiny world's gate may honestly
    fail; the mart then publishes the engagement hours or the champion's hours."""
    from roi_assets.definitions import defs

    job = defs.resolve_implicit_global_asset_job_def()
    try:
        result = job.execute_in_process(
            asset_selection=[RECOMMENDATIONS], instance=dg.DagsterInstance.ephemeral()
        )
    finally:
        mlflow.end_run()
    assert result.success
    with connect(read_only=True) as con:
        mart = con.execute("select * from marts.send_time_recommendations").pl()
        active = con.execute(
            "select count(distinct client_id) from staging.stg_subscriptions "
            "where cancelled_date is null"
        ).fetchone()[0]
        offsets = con.execute(
            "select client_id, utc_offset_hours from features.feat_send_time_state"
        ).pl()
    return mart, active, offsets


def test_the_mart_recommends_one_hour_to_every_active_client(recommended):
    mart, active, _ = recommended
    assert mart.height == active == mart["client_id"].n_unique()
    assert mart["best_hour_of_week_local"].is_between(0, 167).all()
    assert mart["expected_open_probability"].is_between(0.0, 1.0).all()
    assert mart["scored_at"].n_unique() == 1


def test_the_utc_hour_is_the_local_hour_moved_by_the_clients_offset(recommended):
    mart, _, offsets = recommended
    joined = mart.join(offsets, on="client_id")
    expected = (
        np.floor(joined["best_hour_of_week_local"].to_numpy() - joined["utc_offset_hours"]) % 168
    )
    assert np.array_equal(joined["best_hour_of_week_utc"].to_numpy(), expected)


def test_the_mart_names_what_decided_and_promotes_only_a_candidate_that_passed(recommended):
    mart, _, _ = recommended
    candidate = version_behind_alias(MODEL_NAME, CANDIDATE)
    with connect(read_only=True) as con:
        verdict = gate_verdict(con, MODEL_NAME, candidate)
    decided = mart["model_version"].unique().to_list()
    if verdict.publishes_fallback:
        assert decided == [ENGAGEMENT_HOUR]
    else:
        assert decided == [version_behind_alias(MODEL_NAME, CHAMPION)]
    promoted = version_behind_alias(MODEL_NAME, CHALLENGER) == candidate
    assert promoted is verdict.passed


def test_the_state_table_holds_the_contracts_twenty_features(materialized_world):
    with connect(read_only=True) as con:
        columns = [
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'features' and table_name = 'feat_send_time_state' "
                "order by ordinal_position"
            ).fetchall()
        ]
    assert columns == ["client_id", "as_of", "utc_offset_hours", *STATE_FEATURES]
