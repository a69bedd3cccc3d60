"""Publication for BI after every run that writes BI-facing tables, whatever its outcome.

A run that a validation gate stopped is reported as failed, yet everything upstream of the gate
was refreshed; BI should see it. So the copy follows finished runs of the writing jobs, successful
or failed, rather than being a step inside them (where the gate would skip it).
"""

import dagster as dg

from roi_assets.automation.jobs import (
    daily_refit,
    ingest_daily,
    publish_bi,
    refresh_all,
    weekly_retrain,
)
from roi_assets.deployment.jobs import advance_deployments
from roi_assets.monitoring.jobs import monitoring_daily, monitoring_weekly

WRITING_JOBS = [
    ingest_daily,
    daily_refit,
    refresh_all,
    weekly_retrain,
    monitoring_daily,
    monitoring_weekly,
    advance_deployments,
]


def _publish_after(status: dg.DagsterRunStatus) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name=f"publish_bi_after_{status.value.lower()}",
        run_status=status,
        monitored_jobs=WRITING_JOBS,
        request_job=publish_bi,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Publishes data/bi.duckdb when a writing job ends in {status.value}.",
    )
    def publish(context: dg.RunStatusSensorContext) -> dg.RunRequest:
        # one publication per finished run, however often the sensor is evaluated
        return dg.RunRequest(run_key=context.dagster_run.run_id)

    return publish


publish_bi_sensors = [
    _publish_after(dg.DagsterRunStatus.SUCCESS),
    _publish_after(dg.DagsterRunStatus.FAILURE),
]
