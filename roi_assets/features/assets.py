"""The dbt project as assets: staging and feature models, their tests as asset checks."""

import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from roi_assets import settings
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


@dbt_assets(
    manifest=roi_dbt_project.manifest_path,
    project=roi_dbt_project,
    dagster_dbt_translator=SchemaQualifiedTranslator(),
    pool=WAREHOUSE_POOL,
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """Builds and tests the staging, intermediate and feature models in the warehouse."""
    os.environ.update(settings.dbt_environment())
    yield from dbt.cli(["build"], context=context).stream()


def dbt_resource() -> DbtCliResource:
    # dbt lives next to the interpreter in the project's virtual environment
    return DbtCliResource(
        project_dir=roi_dbt_project,
        profiles_dir=str(settings.DBT_PROJECT_DIR),
        dbt_executable=str(Path(sys.executable).parent / "dbt"),
    )
