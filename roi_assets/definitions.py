"""The one Definitions object: every domain's assets, checks, jobs and the shared resources."""

import dagster as dg

from roi_assets.automation.assets import bi_warehouse_copy
from roi_assets.automation.jobs import (
    daily_refit,
    daily_retrain,
    ingest_daily,
    ingest_daily_schedule,
    publish_bi,
    refresh_all,
    weekly_search,
)
from roi_assets.automation.sensors import publish_bi_sensors
from roi_assets.churn import definitions as churn
from roi_assets.deployment import definitions as deployment
from roi_assets.documents import definitions as documents
from roi_assets.engagement import definitions as engagement
from roi_assets.features.assets import dbt_models, dbt_resource, feature_exports
from roi_assets.ingestion.assets import raw_assets, raw_checks
from roi_assets.monitoring import definitions as monitoring
from roi_assets.personalization import definitions as personalization
from roi_assets.resources.mlflow_tracking import mlflow_resource
from roi_assets.resources.storage import LandingZoneResource
from roi_assets.resources.warehouse import duckdb_resource, polars_io_manager
from roi_assets.send_time import definitions as send_time


def _shared() -> dg.Definitions:
    return dg.Definitions(
        assets=[*raw_assets, dbt_models, feature_exports, bi_warehouse_copy],
        asset_checks=raw_checks,
        jobs=[ingest_daily, daily_refit, refresh_all, publish_bi],
        sensors=publish_bi_sensors,
        schedules=[ingest_daily_schedule, daily_retrain, weekly_search],
        resources={
            "duckdb": duckdb_resource(),
            "io_manager": polars_io_manager(),
            "dbt": dbt_resource(),
            "landing_zone": LandingZoneResource.from_settings(),
            "mlflow": mlflow_resource(),
        },
        # DuckDB allows one writing process per file: steps run in the run's own process.
        executor=dg.in_process_executor,
    )


defs = dg.Definitions.merge(
    _shared(),
    engagement.defs,
    documents.defs,
    send_time.defs,
    personalization.defs,
    churn.defs,
    deployment.defs,
    monitoring.defs,
)
