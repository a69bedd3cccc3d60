import datetime as dt

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from roi_assets.monitoring.drift.sensors import drift_retrain_sensor
from roi_assets.monitoring.health.alerts import Alert, alerts_frame, write_alerts


def _raise(database: str, alert_type: str, severity: str, window: str, at: dt.datetime) -> None:
    alert = Alert(
        model_name="roi-engagement-open",
        model_version="2",
        alert_type=alert_type,
        severity=severity,
        observed=1.7,
        threshold=0.1,
        message="subject_length drifted",
        window=window,
    )
    with duckdb.connect(database) as con:
        write_alerts(con, alerts_frame([alert], at))


def _tick(instance, warehouse, cursor):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"duckdb": warehouse}
    )
    result = drift_retrain_sensor(context)
    return result, context.cursor


def test_the_sensor_requests_one_retrain_per_new_critical_drift_alert(tmp_path):
    database = str(tmp_path / "warehouse.duckdb")
    warehouse = DuckDBResource(database=database)
    instance = dg.DagsterInstance.ephemeral()
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


def test_the_sensor_skips_while_the_warehouse_cannot_be_read(tmp_path):
    warehouse = DuckDBResource(database=str(tmp_path / "missing" / "warehouse.duckdb"))
    result, _ = _tick(dg.DagsterInstance.ephemeral(), warehouse, None)
    assert isinstance(result, dg.SkipReason)


def test_the_definitions_load_with_the_monitoring_job_schedule_and_sensor():
    from roi_assets.definitions import defs

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
