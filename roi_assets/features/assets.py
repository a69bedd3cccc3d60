"""The dbt project as assets: staging and feature models, their tests as asset checks.

The assets are partitioned by the landing zone's days, like the raw tables they read: a run for a
day (or a range of days, as one run) builds the models incrementally over those days.
"""

import importlib.metadata
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from roi_assets import settings
from roi_assets.features.dbt_args import dbt_args, window_environment
from roi_assets.ingestion.partitions import FIRST_LANDING_DATE, daily_partitions
from roi_assets.resources.warehouse import WAREHOUSE_POOL

roi_dbt_project = DbtProject(
    project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR
)


class SchemaQualifiedTranslator(DagsterDbtTranslator):
    """Models are keyed `<schema>/<model>` (e.g. features/feat_email_engagement) so the DuckDB IO
    manager loads them for Python assets, and grouped by their schema."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] in ("model", "seed"):
            return dbt_resource_props["schema"]
        return super().get_group_name(dbt_resource_props)

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        metadata = super().get_metadata(dbt_resource_props)
        day = partition_expression(dbt_resource_props["name"])
        return metadata if day is None else {**metadata, "partition_expr": day}


# The day column of each table Python assets load through the IO manager. Loading a daily-
# partitioned table for an unpartitioned asset reads every partition, filtered on this
# expression; a row dated before the first landing day (a client who signed up years earlier)
# counts as that day's, so loading everything loses nothing.
DAY_COLUMNS = {
    "stg_clients": "signup_date",
    "stg_subscriptions": "started_date",
    "feat_email_engagement": "sent_at",
    "feat_client_churn": "snapshot_date",
    "feat_client_daily": "activity_date",
}


def partition_expression(model_name: str) -> str | None:
    """SQL giving a row's partition day, for the models in DAY_COLUMNS."""
    column = DAY_COLUMNS.get(model_name)
    if column is None:
        return None
    return f"greatest(cast({column} as date), date '{FIRST_LANDING_DATE}')"


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False  # rebuild every model from all of raw, whatever the partition


# dbt models tagged `export` write Parquet copies of the feature tables for a Dask cluster; they
# are built on demand (feature_exports below), not by the daily build.
EXPORT_SELECTION = "tag:export"


@dbt_assets(
    manifest=roi_dbt_project.manifest_path,
    project=roi_dbt_project,
    dagster_dbt_translator=SchemaQualifiedTranslator(),
    exclude=EXPORT_SELECTION,
    pool=WAREHOUSE_POOL,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
) -> Iterator[Any]:
    """Builds and tests the staging, intermediate and feature models in the warehouse, over the
    run's days; a run without partitions builds everything."""
    window = None
    if context.has_partition_key or context.has_partition_key_range:
        days = context.partition_time_window
        window = (days.start.date(), days.end.date())
    # dbt runs as a subprocess that inherits this environment
    os.environ.update(
        settings.dbt_environment() | window_environment(window, full_refresh=config.full_refresh)
    )
    args = dbt_args("build", full_refresh=config.full_refresh)
    yield from dbt.cli(args, context=context, target_path=dbt_target_path()).stream()


def dbt_target_path() -> Path:
    """One target folder per data folder, kept between runs: dbt finds there the project it
    parsed last time (partial parsing) instead of parsing it again in a new folder per run."""
    return settings.data_dir() / "dbt_target"


class ProjectDbtCliResource(DbtCliResource):
    """dbt from this environment, without two start-up costs of dagster-dbt's resource that these
    assets do not use. It asks the executable its version (`dbt --version`, a subprocess importing
    dbt: about 2.5 s of CPU a run); the executable is the installed dbt-core's, so its version is
    read from the installed package instead. And before every invocation it loads dbt's project,
    profile and macros in this process (about 1.5 s) for an adapter handle that serves only
    `fetch_row_counts` and `fetch_column_metadata`, which these assets never call."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


@dbt_assets(
    manifest=roi_dbt_project.manifest_path,
    project=roi_dbt_project,
    dagster_dbt_translator=SchemaQualifiedTranslator(),
    select=EXPORT_SELECTION,
    pool=WAREHOUSE_POOL,
)
def feature_exports(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """The feature tables as Parquet under ROI_FEATURE_EXPORT_DIR (dbt's external
    materialisation), where Dask workers read them in partitions (roi_assets.distributed)."""
    os.environ.update(settings.dbt_environment())
    export_dir = settings.feature_export_dir()
    if "://" not in export_dir:  # DuckDB writes into a local folder but does not create it
        Path(export_dir).mkdir(parents=True, exist_ok=True)
    yield from dbt.cli(["build"], context=context).stream()


def dbt_resource() -> DbtCliResource:
    # dbt lives next to the interpreter in the project's virtual environment
    return ProjectDbtCliResource(
        project_dir=roi_dbt_project,
        profiles_dir=str(settings.DBT_PROJECT_DIR),
        dbt_executable=str(Path(sys.executable).parent / "dbt"),
    )
