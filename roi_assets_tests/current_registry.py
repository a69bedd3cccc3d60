"""The registry resource on whatever store a test pointed MLflow at, and the pointing."""

import mlflow
import mlflow.tracking.fluent
import pytest

from roi_assets import settings
from roi_assets.resources.registry import ModelRegistry


def current_registry() -> ModelRegistry:
    return ModelRegistry(tracking_uri=mlflow.get_tracking_uri())


def point_mlflow_at(patch: pytest.MonkeyPatch, uri: str) -> None:
    """Point the product's settings and MLflow's fluent API at a test's own store."""
    patch.setenv(settings.ENV_MLFLOW_TRACKING_URI, uri)
    patch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    # MLflow keeps the active experiment in a module global with no public reset.
    patch.setattr(mlflow.tracking.fluent, "_active_experiment_id", None)
    mlflow.set_tracking_uri(uri)
