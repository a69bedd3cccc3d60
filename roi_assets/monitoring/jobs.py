"""Monitoring's jobs and schedules: the daily checks and the weekly reports."""

import dagster as dg

from roi_assets.monitoring.drift.assets import document_drift_report, feature_drift_report
from roi_assets.monitoring.explain.assets import (
    churn_counterfactuals,
    churn_explanations,
    document_explanations,
    engagement_explanations,
)
from roi_assets.monitoring.fairness.assets import churn_fairness, engagement_fairness
from roi_assets.monitoring.health.assets import champion_health_report, model_alerts, serving_health
from roi_assets.monitoring.health.impact_assets import business_impact

# Daily: what can raise an alert or move with each day's outcomes. Weekly: the reports that
# describe model versions (explanations, counterfactuals, fairness), which change with Sunday's
# retrain; they cost minutes a day at the default scale and would repeat themselves six days out
# of seven.
DAILY_MONITORING = (
    feature_drift_report,
    document_drift_report,
    champion_health_report,
    serving_health,
    model_alerts,
    business_impact,
)
WEEKLY_REPORTS = (
    engagement_explanations,
    churn_explanations,
    churn_counterfactuals,
    document_explanations,
    engagement_fairness,
    churn_fairness,
)

monitoring_daily = dg.define_asset_job(
    "monitoring_daily",
    selection=dg.AssetSelection.assets(*DAILY_MONITORING),
    description="Drift, champion and serving health, alerts and rollback, business impact.",
)

monitoring_weekly = dg.define_asset_job(
    "monitoring_weekly",
    selection=dg.AssetSelection.assets(*WEEKLY_REPORTS),
    description="Explanations, churn counterfactuals and fairness reports of every model.",
)


def reports_with_inputs(instance: dg.DagsterInstance) -> list[dg.AssetKey]:
    """The weekly reports whose inputs have been materialised. A model no version of which has
    passed its gate yet has no mart (no scores, no risk tiers) to explain or assess, and a run
    selecting its report would fail on loading that input."""
    return [
        report.key
        for report in WEEKLY_REPORTS
        if all(
            instance.get_latest_materialization_event(upstream) is not None
            for upstream in report.keys_by_input_name.values()
        )
    ]


@dg.schedule(
    name="monitoring_weekly_schedule",
    job=monitoring_weekly,
    cron_schedule="0 8 * * 0",  # after Sunday's retrain and the daily monitoring
    execution_timezone="UTC",
    description="Weekly explanations and fairness reports of the models that have marts.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def monitoring_weekly_schedule(
    context: dg.ScheduleEvaluationContext,
) -> dg.RunRequest | dg.SkipReason:
    reports = reports_with_inputs(context.instance)
    if not reports:
        return dg.SkipReason("no model has a mart to explain or assess yet")
    return dg.RunRequest(asset_selection=reports)


monitoring_daily_schedule = dg.ScheduleDefinition(
    name="monitoring_daily_schedule",
    job=monitoring_daily,
    cron_schedule="0 7 * * *",  # after daily_retrain (05:00) has refitted and re-scored
    execution_timezone="UTC",
    description="Daily monitoring of every model.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
