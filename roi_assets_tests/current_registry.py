"""The registry resource on whatever store a test pointed MLflow at."""

import mlflow

from roi_assets.resources.registry import ModelRegistry


def current_registry() -> ModelRegistry:
    return ModelRegistry(tracking_uri=mlflow.get_tracking_uri())
