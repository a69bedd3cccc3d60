"""A private MLflow registry per test (two tiny scikit-learn versions of an engagement model, the
first champion, the second challenger) and a private DuckDB warehouse.

The registry is built once per session and copied for each test, so every test starts from the
same aliases; MLflow's process-wide tracking URI is restored afterwards.
"""

from __future__ import annotations

import shutil

import mlflow
import mlflow.tracking.fluent
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

from roi_assets.resources.tracking import (
    configure_tracking,
    log_sklearn_model,
    promote_to_challenger,
    registered_version,
)
from roi_assets.resources.warehouse import connect
from roi_assets_tests.current_registry import point_mlflow_at

MODEL_NAME = "roi-engagement-open"
CHAMPION_VERSION = "1"
CHALLENGER_VERSION = "2"


@pytest.fixture(scope="session")
def registry_template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("deployment_registry")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    with pytest.MonkeyPatch.context() as patch:
        point_mlflow_at(patch, uri)
        configure_tracking("deployment-tests", artifact_location=(folder / "artifacts").as_uri())
        rng = np.random.default_rng(0)
        frame = pd.DataFrame({"x1": rng.normal(size=60), "x2": rng.normal(size=60)})
        labels = (frame["x1"] > 0).astype(int)
        for c in (0.1, 1.0):
            with mlflow.start_run():
                info = log_sklearn_model(
                    LogisticRegression(C=c).fit(frame, labels),
                    name="model",
                    input_example=frame.head(3),
                    registered_model_name=MODEL_NAME,
                )
            promote_to_challenger(MODEL_NAME, registered_version(info), MlflowClient(uri))
    mlflow.set_tracking_uri(previous)
    return folder / "mlflow.db"


@pytest.fixture
def registry(registry_template, tmp_path):
    """An MlflowClient on a fresh copy of the registry, also MLflow's tracking URI meanwhile."""
    database = tmp_path / "mlflow.db"
    shutil.copy(registry_template, database)
    uri = f"sqlite:///{database}"
    previous = mlflow.get_tracking_uri()
    with pytest.MonkeyPatch.context() as patch:
        point_mlflow_at(patch, uri)
        yield MlflowClient(uri)
    mlflow.set_tracking_uri(previous)


@pytest.fixture
def warehouse(tmp_path):
    """The path of an empty private warehouse."""
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def con(warehouse):
    with connect(warehouse) as connection:
        yield connection
