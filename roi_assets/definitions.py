"""The one Definitions object: every asset, check, job, schedule and sensor defined in the
product's domain packages, loaded from their modules, with the shared resources.

Adding an asset to any module of a domain package puts it in the graph; nothing is listed by
hand. The world (`roi_assets.simulator`) and the scoring API (`roi_assets.serving`) are not part
of the graph.
"""

import importlib

import dagster as dg

from roi_assets.features.assets import dbt_resource
from roi_assets.resources.mlflow_tracking import mlflow_resource
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.storage import LandingZoneResource
from roi_assets.resources.warehouse import duckdb_resource, polars_io_manager

DOMAIN_PACKAGES = (
    "roi_assets.ingestion",
    "roi_assets.features",
    "roi_assets.engagement",
    "roi_assets.churn",
    "roi_assets.documents",
    "roi_assets.send_time",
    "roi_assets.personalization",
    "roi_assets.deployment",
    "roi_assets.monitoring",
    "roi_assets.automation",
)


def product_resources() -> dict[str, object]:
    """The resources every run gets; each reads its settings when a run starts."""
    return {
        "duckdb": duckdb_resource(),
        "io_manager": polars_io_manager(),
        "dbt": dbt_resource(),
        "landing_zone": LandingZoneResource.from_settings(),
        "mlflow": mlflow_resource(),
        "registry": ModelRegistry(),
    }


defs = dg.Definitions.merge(
    *(
        dg.load_definitions_from_package_module(importlib.import_module(package))
        for package in DOMAIN_PACKAGES
    ),
    dg.Definitions(
        resources=product_resources(),
        # DuckDB allows one writing process per file: steps run in the run's own process.
        executor=dg.in_process_executor,
    ),
)
