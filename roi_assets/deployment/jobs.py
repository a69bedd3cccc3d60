"""The daily deployment job and its schedule."""

import dagster as dg

from roi_assets.deployment.assets import GROUP, rollout_state

advance_deployments = dg.define_asset_job(
    "advance_deployments",
    # downstream too: whatever reads the rollout (the BI copy the serving API opens) follows it
    selection=dg.AssetSelection.groups(GROUP).downstream(),
    description="Judge each live evaluation and advance every model's rollout by one day.",
)


@dg.schedule(
    name="rollout_daily",
    job=advance_deployments,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def rollout_daily(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Advances every experiment and rollout once a day, after the daily retrain, on the tick's
    date (one run per date: a re-evaluated tick does not run it twice)."""
    as_of = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(
        run_key=as_of,
        run_config={"ops": {rollout_state.op.name: {"config": {"as_of": as_of}}}},
    )
