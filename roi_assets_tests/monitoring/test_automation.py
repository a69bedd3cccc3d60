import datetime as dt

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from roi_assets.automation.jobs import refresh_all
from roi_assets.catalog import CHURN_RISK, CONTENT_BANDIT_MODEL, ONLINE_LEARNING_MODELS
from roi_assets.definitions import defs
from roi_assets.deployment.families import FAMILIES
from roi_assets.monitoring.drift.sensors import (
    TRAINED_BY,
    drift_retrain_sensor,
    read_cursor,
    retrain_selection,
)
from roi_assets.monitoring.explain.assets import (
    churn_counterfactuals,
    churn_explanations,
    engagement_explanations,
)
from roi_assets.monitoring.fairness.assets import engagement_fairness
from roi_assets.monitoring.health.alerts import Alert, alerts_frame, write_alerts
from roi_assets.monitoring.jobs import WEEKLY_REPORTS, monitoring_weekly_schedule


def _raise(
    database: str,
    alert_type: str,
    severity: str,
    window: str,
    at: dt.datetime,
    version: str = "2",
    model_name: str = "roi-engagement-open",
) -> None:
    alert = Alert(
        model_name=model_name,
        model_version=version,
        alert_type=alert_type,
        severity=severity,
        observed=1.7,
        threshold=0.1,
        message="subject_length drifted",
        window=window,
    )
    with duckdb.connect(database) as con:
        write_alerts(con, alerts_frame([alert], at))


@pytest.fixture
def sensor_world(tmp_path) -> tuple[str, DuckDBResource, dg.DagsterInstance]:
    """An empty warehouse file (its path and resource) and an instance for the sensor's ticks."""
    database = str(tmp_path / "warehouse.duckdb")
    return database, DuckDBResource(database=database), dg.DagsterInstance.ephemeral()


def _tick(instance, warehouse, cursor):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"duckdb": warehouse}, definitions=defs
    )
    result = drift_retrain_sensor(context)
    return result, context.cursor


def test_the_sensor_requests_one_retrain_per_new_critical_drift_alert(sensor_world):
    database, warehouse, instance = sensor_world
    _raise(database, "latency_increase", "critical", "2025-05-01", dt.datetime(2025, 5, 1))
    _raise(database, "feature_drift", "warning", "w0", dt.datetime(2025, 5, 1))

    result, cursor = _tick(instance, warehouse, None)
    assert isinstance(result, dg.SkipReason)  # neither critical drift nor drift at all

    _raise(database, "feature_drift", "critical", "w1", dt.datetime(2025, 5, 2))
    result, cursor = _tick(instance, warehouse, cursor)
    assert isinstance(result, dg.RunRequest) and result.run_key

    again, cursor = _tick(instance, warehouse, cursor)
    assert isinstance(again, dg.SkipReason)  # the same alert launches nothing more

    _raise(database, "prediction_drift", "critical", "w2", dt.datetime(2025, 5, 3))
    later, _ = _tick(instance, warehouse, cursor)
    assert isinstance(later, dg.RunRequest) and later.run_key != result.run_key


def test_a_drift_retrain_refits_with_the_latest_searchs_parameters_as_the_daily_one(tmp_path):
    database = str(tmp_path / "warehouse.duckdb")
    _raise(database, "feature_drift", "critical", "w1", dt.datetime(2025, 5, 2))

    request, _ = _tick(dg.DagsterInstance.ephemeral(), DuckDBResource(database=database), None)

    engagement = request.run_config["ops"]["engagement_model"]["config"]
    assert engagement == {"full_grid": False, "n_splits": 0}
    validated = dg.validate_run_config(defs.resolve_job_def("refresh_all"), request.run_config)
    assert validated["ops"]["engagement_model"]["config"]["full_grid"] is False


def _selected(request: dg.RunRequest) -> set[str]:
    return {key.to_user_string() for key in request.asset_selection}


def test_a_drift_retrain_trains_the_drifting_models_and_what_depends_on_them(sensor_world):
    database, warehouse, instance = sensor_world
    _raise(database, "feature_drift", "critical", "w1", dt.datetime(2025, 5, 2))
    engagement, cursor = _tick(instance, warehouse, None)

    assert {"engagement_model", "engagement_evaluation", "marts/engagement_scores"} <= _selected(
        engagement
    )
    assert not {"churn_model", "send_time_model", "document_classifier"} & _selected(engagement)
    every_asset = refresh_all.selection.resolve(
        defs.get_repository_def().assets_defs_by_key.values()
    )
    assert set(engagement.asset_selection) <= every_asset

    _raise(
        database, "feature_drift", "critical", "w2", dt.datetime(2025, 5, 3), "4", "roi-churn-30d"
    )
    churn, _ = _tick(instance, warehouse, cursor)
    assert {"churn_model", "churn_evaluation", "marts/churn_risk"} <= _selected(churn)
    assert "engagement_model" not in _selected(churn)


def test_every_model_a_drift_can_retrain_has_its_training_asset():
    retrainable = {family.model_name for family in FAMILIES} - ONLINE_LEARNING_MODELS
    assert set(TRAINED_BY) == retrainable
    assets = defs.get_repository_def().assets_defs_by_key
    assert all(key in assets for key in TRAINED_BY.values())
    with pytest.raises(ValueError, match="no training asset"):
        retrain_selection([CONTENT_BANDIT_MODEL])


def test_the_same_drift_raised_again_on_the_same_champion_retrains_once(sensor_world):
    database, warehouse, instance = sensor_world
    _raise(database, "feature_drift", "critical", "w1", dt.datetime(2025, 5, 2))
    first, cursor = _tick(instance, warehouse, None)
    assert isinstance(first, dg.RunRequest)

    _raise(database, "feature_drift", "critical", "w2", dt.datetime(2025, 5, 3))
    next_day, cursor = _tick(instance, warehouse, cursor)
    assert isinstance(next_day, dg.SkipReason)  # v2 was retrained for this drift already

    _raise(database, "feature_drift", "critical", "w3", dt.datetime(2025, 5, 4), version="3")
    new_champion, _ = _tick(instance, warehouse, cursor)
    assert isinstance(new_champion, dg.RunRequest)
    assert new_champion.run_key != first.run_key


def test_drift_on_a_model_that_learns_online_launches_no_retrain(sensor_world):
    database, warehouse, instance = sensor_world
    for day, version in ((2, "7"), (3, "8")):  # a new bandit version every day
        _raise(
            database,
            "feature_drift",
            "critical",
            f"w{day}",
            dt.datetime(2025, 5, day),
            version=version,
            model_name=CONTENT_BANDIT_MODEL,
        )
    result, cursor = _tick(instance, warehouse, None)
    assert isinstance(result, dg.SkipReason)

    _raise(database, "feature_drift", "critical", "w4", dt.datetime(2025, 5, 4))
    engagement, _ = _tick(instance, warehouse, cursor)
    assert isinstance(engagement, dg.RunRequest)
    assert engagement.tags["roi/models"] == "roi-engagement-open"


def test_the_sensor_reads_the_cursor_of_its_earlier_form():
    assert read_cursor("2025-05-02T00:00:00") == (dt.datetime(2025, 5, 2), set())


def test_the_sensor_skips_while_the_warehouse_cannot_be_read(tmp_path):
    warehouse = DuckDBResource(database=str(tmp_path / "missing" / "warehouse.duckdb"))
    result, _ = _tick(dg.DagsterInstance.ephemeral(), warehouse, None)
    assert isinstance(result, dg.SkipReason)


def test_the_definitions_load_with_the_monitoring_job_schedule_and_sensor():
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("monitoring_daily")
    assert {key.to_user_string() for key in job.asset_layer.executable_asset_keys} >= {
        "monitoring/feature_drift",
        "monitoring/champion_health",
        "monitoring/serving_health",
        "monitoring/alerts",
    }
    assert defs.resolve_schedule_def("monitoring_daily_schedule").job_name == "monitoring_daily"
    assert defs.resolve_sensor_def("drift_retrain_sensor").job_name == "refresh_all"


def _weekly_tick(instance):
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=dt.datetime(2025, 6, 8, 8, tzinfo=dt.UTC)
    )
    return monitoring_weekly_schedule.evaluate_tick(context)


def test_the_weekly_reports_wait_for_the_marts_they_read():
    with dg.instance_for_test() as instance:  # a schedule's context needs a persistent one
        _reports_wait_for_their_inputs(instance)


def _reports_wait_for_their_inputs(instance):
    nothing_yet = _weekly_tick(instance)
    assert not nothing_yet.run_requests and nothing_yet.skip_message

    # every input but the churn mart: churn's gate has let no version through
    for report in WEEKLY_REPORTS:
        for upstream in report.keys_by_input_name.values():
            if upstream != CHURN_RISK:
                instance.report_runless_asset_event(dg.AssetMaterialization(upstream))
    (request,) = _weekly_tick(instance).run_requests

    selected = set(request.asset_selection)
    assert churn_explanations.key not in selected and churn_counterfactuals.key not in selected
    assert {engagement_explanations.key, engagement_fairness.key} <= selected
