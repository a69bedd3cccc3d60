"""Jobs and schedules over the whole graph: the product's day, as the daemon runs it.

04:00 `ingest_daily` loads yesterday's landing files and builds yesterday's features (one daily
partition); 05:00 Monday to Saturday `daily_refit` refits the models whose training data grows
every day (engagement with the best parameters of the latest search, the send-time DQN, the
content bandit's posteriors) and re-scores every mart; Sunday 05:00 `weekly_search` runs
`weekly_retrain`: the full hyper-parameter search and the models whose data moves weekly (churn
features are weekly snapshots, so a daily refit would see the same rows six days out of seven;
the labelled document archive grows when the records team files more). 06:00 the rollout step,
07:00 monitoring and Sunday 08:00 the weekly reports follow (their schedules live with their
domains). `refresh_all` is the same retrain with the monitoring in the same run: what `make run`
and the drift sensor launch.
Every schedule is RUNNING by default: a new deployment starts its days without anyone finding
toggles.
"""

import dagster as dg
from dagster_mlflow import end_mlflow_on_run_finished

from roi_assets.engagement.refit import REFIT_RUN_CONFIG
from roi_assets.ingestion.partitions import daily_partitions
from roi_assets.monitoring.jobs import DAILY_MONITORING, WEEKLY_REPORTS

# dbt's Parquet exports of the feature tables (tag `export`), for a Dask cluster: built on demand
# (docs/operations.md), by no scheduled job. They cost 7 s of a 20 s daily ingestion.
FEATURE_EXPORTS = dg.AssetSelection.tag("export", "")
# The raw tables (group `ingestion`) and every dbt model and seed but the exports.
DAILY_INGESTION = (
    dg.AssetSelection.groups("ingestion") | dg.AssetSelection.kind("dbt")
) - FEATURE_EXPORTS
# What the document sensor's per-document runs and the BI publication own.
NOT_RETRAINED = dg.AssetSelection.keys(
    ["raw", "document_ocr"], ["marts", "document_classifications"], "bi_warehouse_copy"
)

ingest_daily = dg.define_asset_job(
    "ingest_daily",
    selection=DAILY_INGESTION,
    partitions_def=daily_partitions,
    description="Load one day's landing files into raw.* and build that day's features (dbt, "
    "incremental). A range of days runs as one backfill.",
)

daily_refit = dg.define_asset_job(
    "daily_refit",
    selection=dg.AssetSelection.groups("engagement", "send_time", "personalization")
    | dg.AssetSelection.keys(["marts", "churn_risk"]),
    hooks={end_mlflow_on_run_finished},
    description="Refit the models whose data grows daily and re-score every mart with the "
    "registry's champions.",
)

refresh_all = dg.define_asset_job(
    "refresh_all",
    selection=dg.AssetSelection.all() - DAILY_INGESTION - FEATURE_EXPORTS - NOT_RETRAINED,
    hooks={end_mlflow_on_run_finished},
    description="Train, evaluate, gate, score and monitor every model on the features built so "
    "far (the full hyper-parameter search unless configured otherwise).",
)

# Sunday's retrain leaves the monitoring to its own runs after the rollout step, as on every other
# day; with it, Sunday computed the drift, health and weekly reports twice (about 70 s by default).
weekly_retrain = dg.define_asset_job(
    "weekly_retrain",
    selection=refresh_all.selection - dg.AssetSelection.assets(*DAILY_MONITORING, *WEEKLY_REPORTS),
    hooks={end_mlflow_on_run_finished},
    description="Train, evaluate, gate and score every model with the full hyper-parameter "
    "search; the monitoring follows in its own runs.",
)

publish_bi = dg.define_asset_job(
    "publish_bi",
    selection=dg.AssetSelection.keys("bi_warehouse_copy"),
    description="Replace data/bi.duckdb with a copy of the BI-facing schemas.",
)

ingest_daily_schedule = dg.build_schedule_from_partitioned_job(
    ingest_daily,
    name="ingest_daily_schedule",
    hour_of_day=4,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every morning: yesterday's landing files and features.",
)

daily_retrain = dg.ScheduleDefinition(
    name="daily_retrain",
    job=daily_refit,
    cron_schedule="0 5 * * 1-6",
    execution_timezone="UTC",
    run_config=REFIT_RUN_CONFIG,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Monday to Saturday: refit the daily-growing models and re-score every mart.",
)

weekly_search = dg.ScheduleDefinition(
    name="weekly_search",
    job=weekly_retrain,
    cron_schedule="0 5 * * 0",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Sunday: retrain every model, with the full hyper-parameter search.",
)
