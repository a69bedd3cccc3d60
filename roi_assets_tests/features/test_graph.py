import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb

from roi_assets import settings
from roi_assets.resources.warehouse import connect
from roi_assets.send_time.evaluation import ENGAGEMENT_HOUR
from roi_assets.simulator import SCALES

ENGAGEMENT_FEATURES = [
    "days_since_last_open",
    "days_since_last_click",
    "lifetime_open_rate",
    "recent_open_rate_7d",
    "recent_open_rate_30d",
    "click_through_rate",
    "avg_time_to_open_hours",
    "email_frequency_score",
    "login_frequency_weekly",
    "document_access_rate",
    "feature_adoption_score",
    "support_ticket_count",
    "referral_generated",
]
CHURN_FEATURES = [
    "login_frequency_slope_30d",
    "document_access_decline_rate",
    "email_engagement_momentum",
    "time_between_sessions_increase",
    "support_ticket_sentiment_score",
    "nps_score_if_available",
    "competitor_email_opens",
    "price_comparison_searches",
    "seasonal_churn_probability",
    "unique_features_used",
    "data_volume_uploaded_gb",
]


def test_the_definitions_load_as_one_graph():
    from roi_assets.definitions import defs

    dg.Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/email_sends", "features/feat_email_engagement"} <= keys


def _check_results(result):
    return {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def _failed_with_warning(result) -> set[str]:
    """The checks that failed with WARN severity (their downstream assets still run)."""
    return {
        e.asset_check_evaluation_data.check_name
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and not e.asset_check_evaluation_data.passed
        and e.asset_check_evaluation_data.severity == dg.AssetCheckSeverity.WARN
    }


# The policy a gate that fails with a warning publishes instead of its candidate.
FALLBACKS = {"send_time_validation_gate": ENGAGEMENT_HOUR}

# Each validation gate and the mart it guards: a gate failed with an error leaves its mart
# unmaterialised.
GATED_MARTS = {
    "engagement_validation_gate": "marts/engagement_scores",
    "churn_validation_gate": "marts/churn_risk",
    "send_time_validation_gate": "marts/send_time_recommendations",
    "personalization_validation_gate": "marts/content_assignments",
}


def test_the_whole_graph_runs_at_tiny_scale_and_the_gate_blocks_an_unfit_model(
    lived_instance,
    materialized_world,
):
    checks = _check_results(materialized_world)
    gates = {name: checks.pop(name) for name in list(checks) if name.endswith("validation_gate")}
    # the tiny world is too small for the engagement model to reach 70 % of the oracle's lift
    assert gates["engagement_validation_gate"] is False
    # The drift warning is monitoring's verdict, not data quality: on 150 tiny days a monitored
    # feature may cross its threshold by chance (login_frequency_weekly scored 0.101 against 0.1
    # once the world's sessions followed each client's habits). It must have been evaluated.
    assert isinstance(checks.pop("monitored_features_stable"), bool)
    # every data-quality check passes; gates may honestly fail on so little data
    assert checks and all(checks.values()), checks
    materialized = {
        e.asset_key.to_user_string() for e in materialized_world.get_asset_materialization_events()
    }
    assert "engagement_evaluation" in materialized
    history_days = SCALES[settings.simulation_scale()].n_days
    for ingested in (["raw", "email_sends"], ["features", "feat_client_churn"]):
        # one backfill run materialised every day of the history
        days = lived_instance.get_materialized_partitions(dg.AssetKey(ingested))
        assert len(days) == history_days
    warned = _failed_with_warning(materialized_world)
    with connect(read_only=True) as con:
        for gate, passed in gates.items():
            if passed or gate not in GATED_MARTS:
                continue
            if gate in warned:
                # a gate that fails with a warning publishes its fallback policy, named as such
                decided_by = con.execute(
                    f"select distinct model_version from {GATED_MARTS[gate].replace('/', '.')}"
                ).fetchall()
                assert decided_by == [(FALLBACKS[gate],)], gate
            else:
                assert GATED_MARTS[gate] not in materialized, gate
        for table in (
            "raw.email_sends",
            "staging.stg_user_events",
            "features.feat_client_churn",
            "truth.email_send_probabilities",
            "monitoring.model_evaluations",
        ):
            assert con.execute(f"select count(*) from {table}").fetchone()[0] > 0


def _same_rows(left, right) -> bool:
    """Window sums may add in another order after a rebuild: floats are compared to 1e-9."""
    return len(left) == len(right) and all(
        all(
            math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) if isinstance(a, float) else a == b
            for a, b in zip(row_a, row_b, strict=True)
        )
        for row_a, row_b in zip(left, right, strict=True)
    )


def _rebuild_features(warehouse: Path) -> None:
    env = {**os.environ, settings.ENV_WAREHOUSE_PATH: str(warehouse)}
    subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "run", "--quiet", "--profiles-dir", "."],
        cwd=settings.DBT_PROJECT_DIR,
        env=env,
        check=True,
    )


def test_changing_events_after_a_cut_off_changes_no_feature_at_that_cut_off(
    materialized_world, tmp_path
):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(settings.warehouse_path(), copy)
    with duckdb.connect(str(copy)) as con:
        cut = con.execute(
            "select cast(min(sent_at) + (max(sent_at) - min(sent_at)) / 2 as date) "
            "from raw.email_sends"
        ).fetchone()[0]
        before_email = con.execute(
            f"select send_id, {', '.join(ENGAGEMENT_FEATURES)} from features.feat_email_engagement "
            "where sent_at < ? order by send_id",
            [cut],
        ).fetchall()
        before_churn = con.execute(
            f"select client_id, snapshot_date, {', '.join(CHURN_FEATURES)} "
            "from features.feat_client_churn where snapshot_date <= ? order by 1, 2",
            [cut],
        ).fetchall()
        # rewrite history after the cut-off: drop half the later events, double the rest
        for table in ("user_events", "email_events"):
            con.execute(
                f"delete from raw.{table} where occurred_at >= ? and hash(event_id) % 2 = 0", [cut]
            )
        con.execute(
            "insert into raw.user_events select * replace (event_id + 1000000000 as event_id) "
            "from raw.user_events where occurred_at >= ?",
            [cut],
        )
    _rebuild_features(copy)
    with duckdb.connect(str(copy), read_only=True) as con:
        after_email = con.execute(
            f"select send_id, {', '.join(ENGAGEMENT_FEATURES)} from features.feat_email_engagement "
            "where sent_at < ? order by send_id",
            [cut],
        ).fetchall()
        after_churn = con.execute(
            f"select client_id, snapshot_date, {', '.join(CHURN_FEATURES)} "
            "from features.feat_client_churn where snapshot_date <= ? order by 1, 2",
            [cut],
        ).fetchall()
        later = con.execute(
            "select count(*) from features.feat_client_churn where snapshot_date > ?", [cut]
        ).fetchone()[0]
    assert len(before_email) > 100 and len(before_churn) > 100 and later > 0
    assert _same_rows(after_email, before_email)
    assert _same_rows(after_churn, before_churn)


def test_the_product_s_graph_starts_at_the_landing_zone():
    from roi_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    raw = [key for key in graph.get_all_asset_keys() if key.path[0] == "raw"]
    assert raw, "the raw assets are the graph's first layer"
    for key in raw:
        assert not graph.get(key).parent_keys, f"{key.to_user_string()} has an upstream asset"
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert "simulator" not in groups


def test_every_schedule_and_sensor_runs_by_default():
    from roi_assets.definitions import defs

    stopped = [
        definition.name
        for definition in [*defs.schedules, *defs.sensors]
        if definition.default_status.value != "RUNNING"
    ]
    assert stopped == []
    assert {"ingest_daily_schedule", "daily_retrain", "rollout_daily"} <= {
        schedule.name for schedule in defs.schedules
    }
