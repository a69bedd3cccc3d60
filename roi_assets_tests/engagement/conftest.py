"""Shared fixtures: one synthetic send history, a model and baseline trained on its start, and a
throwaway MLflow store per test module."""

from __future__ import annotations

import mlflow
import mlflow.tracking.fluent
import polars as pl
import pytest

from roi_assets import settings
from roi_assets.engagement.baseline import train_logistic_baseline
from roi_assets.engagement.model import TrainedEngagementModel, train_engagement_model
from roi_assets.evaluation.windows import time_ordered_split
from roi_assets.resources.tracking import configure_tracking

from .synthetic import EngagementWorld, synthetic_engagement_world

# The specification's grid takes minutes; one small grid point keeps the tests fast.
TINY_GRID = {
    "classifier__n_estimators": [20],
    "classifier__max_depth": [3],
    "classifier__learning_rate": [0.1],
}


@pytest.fixture(scope="session")
def world() -> EngagementWorld:
    return synthetic_engagement_world(n_rows=4000, seed=0)


@pytest.fixture(scope="session")
def history(world: EngagementWorld) -> pl.DataFrame:
    """Label-complete sends with their true open probability, for splitting train / evaluation."""
    return world.frame.with_columns(true_open_probability=world.open_probability).filter(
        pl.col("label_complete")
    )


@pytest.fixture(scope="session")
def train_and_evaluation(history: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    return time_ordered_split(history, "sent_at", 0.25)


@pytest.fixture(scope="session")
def trained(train_and_evaluation) -> TrainedEngagementModel:
    return train_engagement_model(train_and_evaluation[0], param_grid=TINY_GRID, n_splits=2)


@pytest.fixture(scope="session")
def baseline(train_and_evaluation):
    return train_logistic_baseline(train_and_evaluation[0])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A fresh tracking store named by a relative sqlite URI, as `mlflow ui` users write it;
    MLflow's process-wide settings and the working directory are restored afterwards."""
    data_dir = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(data_dir.parent)
        patch.setenv(settings.ENV_DATA_DIR, str(data_dir))
        patch.setenv(settings.ENV_MLFLOW_TRACKING_URI, f"sqlite:///{data_dir.name}/mlflow.db")
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        patch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
        # MLflow keeps the active experiment in a module global with no public reset.
        patch.setattr(mlflow.tracking.fluent, "_active_experiment_id", None)
        previous_uri = mlflow.get_tracking_uri()
        configure_tracking("engagement-tests")
        yield data_dir
        mlflow.set_tracking_uri(previous_uri)
