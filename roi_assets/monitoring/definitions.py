"""The monitoring domain's slice of the graph: drift, champion and serving health, alerts, the
daily monitoring job and the drift sensor."""

import dagster as dg

from roi_assets.monitoring.assets import (
    GROUP,
    champion_health_report,
    document_drift_report,
    feature_drift_report,
    model_alerts,
    serving_health,
)
from roi_assets.monitoring.checks import monitoring_checks
from roi_assets.monitoring.explanation_assets import (
    churn_counterfactuals,
    churn_explanations,
    document_explanations,
    engagement_explanations,
)
from roi_assets.monitoring.fairness_assets import (
    churn_fairness,
    churn_fairness_within_limits,
    engagement_fairness,
    engagement_fairness_within_limits,
)
from roi_assets.monitoring.impact_assets import business_impact
from roi_assets.monitoring.sensors import drift_retrain_sensor

monitoring_daily = dg.define_asset_job(
    "monitoring_daily",
    selection=dg.AssetSelection.groups(GROUP),
    description="Drift, champion and serving health, alerts and rollback: the monitoring assets.",
)

monitoring_daily_schedule = dg.ScheduleDefinition(
    name="monitoring_daily_schedule",
    job=monitoring_daily,
    cron_schedule="0 7 * * *",  # after daily_retrain (05:00) has refitted and re-scored
    execution_timezone="UTC",
    description="Daily monitoring of every model.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    assets=[
        feature_drift_report,
        document_drift_report,
        champion_health_report,
        serving_health,
        model_alerts,
        business_impact,
        engagement_explanations,
        churn_explanations,
        churn_counterfactuals,
        document_explanations,
        engagement_fairness,
        churn_fairness,
    ],
    asset_checks=[
        *monitoring_checks,
        engagement_fairness_within_limits,
        churn_fairness_within_limits,
    ],
    sensors=[drift_retrain_sensor],
    jobs=[monitoring_daily],
    schedules=[monitoring_daily_schedule],
)
