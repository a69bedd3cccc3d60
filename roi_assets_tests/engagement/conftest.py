"""Shared fixtures: one synthetic send history, and a model and baseline trained on its start."""

from __future__ import annotations

import polars as pl
import pytest

from roi_assets.engagement.baseline import train_logistic_baseline
from roi_assets.engagement.model import TrainedEngagementModel, train_engagement_model
from roi_assets.evaluation.windows import time_ordered_split

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
