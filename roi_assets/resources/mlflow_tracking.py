"""dagster-mlflow's tracking resource, pointed at the product's store.

`mlflow_tracking` is a legacy resource: it opens one MLflow run per Dagster run, and the
`end_mlflow_on_run_finished` hook on each job closes it. Left to itself it would create the
experiment with MLflow's default artifact root (./mlruns under the working directory), so the
experiment is created first with the product's artifact location.
"""

import dagster as dg
from dagster_mlflow import mlflow_tracking

from roi_assets import settings
from roi_assets.resources.tracking import ensure_experiment

EXPERIMENT = "roi-assets"


@dg.resource(config_schema=mlflow_tracking.config_schema)
def product_mlflow_tracking(init_context: dg.InitResourceContext):
    """dagster-mlflow's run, in an experiment whose artifacts live under the data folder."""
    ensure_experiment(
        init_context.resource_config["experiment_name"],
        tracking_uri=init_context.resource_config["mlflow_tracking_uri"],
    )
    return mlflow_tracking.resource_fn(init_context)


def mlflow_resource() -> dg.ResourceDefinition:
    return product_mlflow_tracking.configured(
        {"experiment_name": EXPERIMENT, "mlflow_tracking_uri": settings.mlflow_tracking_uri()}
    )
