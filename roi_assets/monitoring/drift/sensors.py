"""The drift sensor: a new critical drift alert launches the retrain (refresh_all)."""

import datetime as dt
import hashlib

import dagster as dg
import duckdb as duckdb_client
from dagster_duckdb import DuckDBResource

from roi_assets.monitoring.health.alerts import critical_drift_alerts_after

RETRAIN_JOB = "refresh_all"


@dg.sensor(
    job_name=RETRAIN_JOB,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches refresh_all (retrain and re-score) when monitoring.alerts gains a "
    "critical feature or prediction drift alert; one run for the alerts a tick finds.",
)
def drift_retrain_sensor(context: dg.SensorEvaluationContext, duckdb: DuckDBResource):
    """Cursor: the latest raised_at seen. The run key is made of the alert ids, so the same alerts
    never launch a second run even if the cursor were lost."""
    after = dt.datetime.fromisoformat(context.cursor) if context.cursor else None
    try:
        # Read-only, so the sensor never takes the writer's lock; a run writing the warehouse
        # right now holds it, and the next tick reads instead.
        with duckdb_client.connect(duckdb.database, read_only=True) as con:
            alerts = critical_drift_alerts_after(con, after)
    except duckdb_client.Error as error:
        return dg.SkipReason(f"warehouse not readable now: {error}")
    if alerts.height == 0:
        return dg.SkipReason("no new critical drift alert")
    ids = sorted(alerts["alert_id"].to_list())
    context.update_cursor(alerts["raised_at"].max().isoformat())
    return dg.RunRequest(
        run_key="retrain-" + hashlib.sha256(",".join(ids).encode()).hexdigest()[:16],
        tags={
            "roi/trigger": "critical_drift",
            "roi/alert_ids": ",".join(ids)[:4000],
            "roi/models": ",".join(sorted(set(alerts["model_name"].to_list())))[:4000],
        },
    )
