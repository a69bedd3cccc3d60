"""The drift sensor: a critical drift alert launches the retrain (refresh_all), once per drifting
model version.

Drift is measured against the champion's training window, so while that champion serves, the same
drift is raised again every day. One retrain answers it: its challenger, trained on the drifted
data, goes through its live evaluation, and when it becomes champion the reference moves with it.
Retraining again each day would only restart that evaluation, so the sensor remembers which
(model, version, drift type) it has retrained for. A model that learns online (the content
bandit) is not retrained for drift: it has a new version every day, each learned from the day's
landed clicks, so a retrain keyed by its version would run every day and add nothing.

The retrain trains the drifting models and what depends on them in `refresh_all` (their
evaluations, gates, marts and reports), not every model: a drift of the engagement inputs says
nothing about the churn ensemble, whose retrain and reports took about 100 s of a drift day.
Engagement is refitted with the best parameters of the latest search, as the daily retrain does:
drift asks for the drifted data, and Sunday's search revisits the parameters within the week (the
full search would add about 70 s to the day).
"""

import datetime as dt
import hashlib
import json
from collections.abc import Iterable

import dagster as dg
import duckdb as duckdb_client
import polars as pl
from dagster_duckdb import DuckDBResource

from roi_assets.automation.jobs import refresh_all
from roi_assets.catalog import (
    CHURN_MODELS,
    DOCUMENT_CLASSIFIER_MODEL,
    ENGAGEMENT_MODELS,
    ONLINE_LEARNING_MODELS,
    SEND_TIME_MODEL,
)
from roi_assets.engagement.refit import REFIT_RUN_CONFIG
from roi_assets.monitoring.health.alerts import critical_drift_alerts_after

RETRAIN_JOB = refresh_all.name
# The asset that trains each model a drift alert can name (the online bandit is never retrained);
# keys rather than imports of other domains' asset modules.
TRAINED_BY: dict[str, dg.AssetKey] = {
    **{name: dg.AssetKey("engagement_model") for name in ENGAGEMENT_MODELS.values()},
    SEND_TIME_MODEL: dg.AssetKey("send_time_model"),
    **{name: dg.AssetKey("churn_model") for name in CHURN_MODELS},
    DOCUMENT_CLASSIFIER_MODEL: dg.AssetKey("document_classifier"),
}


def retrain_selection(model_names: Iterable[str]) -> dg.AssetSelection:
    """The assets of `refresh_all` a retrain of these models runs: their training assets and
    everything downstream of them in the job."""
    unknown = sorted(set(model_names) - set(TRAINED_BY))
    if unknown:
        raise ValueError(f"no training asset known for {unknown}")
    trained = dg.AssetSelection.assets(*{TRAINED_BY[name] for name in model_names})
    return trained.downstream() & refresh_all.selection


def drift_keys(alerts: pl.DataFrame) -> pl.Series:
    """What each alert asks a retrain to answer: its model, version and drift type."""
    return alerts.select(
        pl.concat_str(
            [pl.col("model_name"), pl.col("model_version").fill_null("-"), pl.col("alert_type")],
            separator="|",
        ).alias("drift_key")
    ).to_series()


def read_cursor(cursor: str | None) -> tuple[dt.datetime | None, set[str]]:
    """The latest raised_at seen and the drift keys already retrained for (a bare timestamp, the
    cursor's earlier form, has retrained for nothing)."""
    if not cursor:
        return None, set()
    if not cursor.startswith("{"):
        return dt.datetime.fromisoformat(cursor), set()
    state = json.loads(cursor)
    after = dt.datetime.fromisoformat(state["after"]) if state.get("after") else None
    return after, set(state.get("retrained", ()))


def write_cursor(after: dt.datetime, retrained: set[str]) -> str:
    return json.dumps({"after": after.isoformat(), "retrained": sorted(retrained)})


@dg.sensor(
    job_name=RETRAIN_JOB,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches refresh_all for the drifting models and what depends on them (retrain "
    "with the latest search's parameters and re-score) when monitoring.alerts gains a critical "
    "feature or prediction drift alert on a model version not yet retrained for it.",
)
def drift_retrain_sensor(context: dg.SensorEvaluationContext, duckdb: DuckDBResource):
    """Cursor: the latest raised_at seen and the drift keys retrained for. The run key is made of
    the new keys, so the same drift never launches a second run even if the cursor were lost."""
    after, retrained = read_cursor(context.cursor)
    try:
        # Read-only, so the sensor never takes the writer's lock; a run writing the warehouse
        # right now holds it, and the next tick reads instead.
        with duckdb_client.connect(duckdb.database, read_only=True) as con:
            alerts = critical_drift_alerts_after(con, after)
    except duckdb_client.Error as error:
        return dg.SkipReason(f"warehouse not readable now: {error}")
    if alerts.height == 0:
        return dg.SkipReason("no new critical drift alert")
    retrainable = alerts.filter(~pl.col("model_name").is_in(sorted(ONLINE_LEARNING_MODELS)))
    if retrainable.height == 0:
        context.update_cursor(write_cursor(alerts["raised_at"].max(), retrained))
        return dg.SkipReason(
            "drift only on models that learn online: their daily update answers it"
        )
    keys = drift_keys(retrainable)
    alerting = retrainable.filter(~keys.is_in(sorted(retrained)))
    new = sorted(set(drift_keys(alerting).to_list()))
    context.update_cursor(write_cursor(alerts["raised_at"].max(), retrained | set(new)))
    if not new:
        return dg.SkipReason("the drifting versions were already retrained for this drift")
    models = sorted(set(alerting["model_name"].to_list()))
    assets = context.repository_def.assets_defs_by_key.values()
    return dg.RunRequest(
        run_key="retrain-" + hashlib.sha256(",".join(new).encode()).hexdigest()[:16],
        run_config=REFIT_RUN_CONFIG,
        asset_selection=sorted(retrain_selection(models).resolve(assets)),
        tags={
            "roi/trigger": "critical_drift",
            "roi/alert_ids": ",".join(sorted(alerting["alert_id"].to_list()))[:4000],
            "roi/models": ",".join(models)[:4000],
        },
    )
