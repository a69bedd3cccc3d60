"""Jobs and schedules over the whole graph."""

import dagster as dg
from dagster_mlflow import end_mlflow_on_run_finished

refresh_all = dg.define_asset_job(
    "refresh_all",
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.keys(
        ["raw", "document_ocr"], ["marts", "document_classifications"], "bi_warehouse_copy"
    ),
    hooks={end_mlflow_on_run_finished},
    description="Simulate/ingest, build features, train, score and monitor.",
)

publish_bi = dg.define_asset_job(
    "publish_bi",
    selection=dg.AssetSelection.keys("bi_warehouse_copy"),
    description="Replace data/bi.duckdb with a copy of the BI-facing schemas.",
)

daily_refresh = dg.ScheduleDefinition(
    name="daily_refresh",
    job=refresh_all,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    description="Daily retrain and re-score of the whole graph.",
)
