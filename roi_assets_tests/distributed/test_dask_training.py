"""Training and scoring on a two-worker Dask `LocalCluster` give the single-machine models.

The cluster's workers are separate processes with one thread each, so every task's inputs and
results really travel through the scheduler, as they would to a Kubernetes cluster.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from roi_assets import settings
from roi_assets.churn.ensemble import ChurnEnsemble
from roi_assets.churn.sequence_model import LSTMParams
from roi_assets.distributed.boosting import fit_lightgbm, fit_xgboost
from roi_assets.distributed.cluster import dask_client, fits_on_dask, run_tasks
from roi_assets.distributed.partitions import (
    export_path,
    read_feature_partitions,
    score_in_chunks,
    score_partitions,
)
from roi_assets.engagement.model import predict_proba, train_engagement_model

from ..churn.synthetic import synthetic_churn_world
from ..engagement.synthetic import synthetic_engagement_world

distributed = pytest.importorskip("distributed")

GRID = {
    "classifier__n_estimators": [20, 40],
    "classifier__max_depth": [3],
    "classifier__learning_rate": [0.1],
}
BOOSTING = {"n_estimators": 40, "max_depth": 3, "learning_rate": 0.1, "random_state": 0}
SMALL_BLOCKS = "64KiB"  # several partitions from the test's small file
QUALITY_TOLERANCE = 0.02  # AUC: a distributed histogram differs slightly from a local one


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        memory_limit="1.5GiB",
        dashboard_address=None,
    ) as local_cluster:
        yield local_cluster


@pytest.fixture
def on_cluster(cluster, monkeypatch):
    monkeypatch.setenv(settings.ENV_DASK_SCHEDULER, cluster.scheduler_address)
    return cluster


@pytest.fixture(scope="module")
def engagement_rows() -> pl.DataFrame:
    world = synthetic_engagement_world(n_rows=2500, seed=1)
    return world.frame.filter(pl.col("label_complete"))


@pytest.fixture(scope="module")
def boosting_data(tmp_path_factory):
    """A learnable table written as Parquet with several row groups (dbt's export), its path."""
    rng = np.random.default_rng(3)
    n = 6000
    features = pd.DataFrame(rng.normal(size=(n, 6)), columns=[f"x{i}" for i in range(6)])
    logit = 1.5 * features["x0"] - features["x1"] + 0.5 * features["x2"] * features["x3"]
    features["label"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    features["row"] = np.arange(n)
    root = tmp_path_factory.mktemp("feature_export")
    features.to_parquet(
        export_path("feat_client_churn", str(root)), row_group_size=1000, index=False
    )
    return root, features


def test_without_a_scheduler_everything_runs_in_this_process(monkeypatch):
    monkeypatch.delenv(settings.ENV_DASK_SCHEDULER, raising=False)

    with dask_client() as client, fits_on_dask(3) as n_jobs:
        assert client is None
        assert n_jobs == 3
    assert run_tasks(pow, [1, 2, 3], 2) == [1, 4, 9]


def test_tasks_run_on_the_cluster_in_order(on_cluster):
    assert run_tasks(pow, list(range(6)), 3) == [i**3 for i in range(6)]


def test_the_grid_search_on_the_cluster_trains_the_single_machine_model(
    engagement_rows, on_cluster, monkeypatch
):
    on_dask = train_engagement_model(engagement_rows, param_grid=GRID, n_splits=2, seed=0)
    monkeypatch.delenv(settings.ENV_DASK_SCHEDULER)
    local = train_engagement_model(engagement_rows, param_grid=GRID, n_splits=2, seed=0)

    assert on_dask.best_params == local.best_params
    assert on_dask.best_cv_auc == pytest.approx(local.best_cv_auc, abs=1e-9)
    np.testing.assert_allclose(
        predict_proba(on_dask, engagement_rows), predict_proba(local, engagement_rows), atol=1e-9
    )


def test_churn_fold_members_trained_as_tasks_give_the_single_machine_ensemble(
    on_cluster, monkeypatch
):
    world = synthetic_churn_world(n_clients=200, n_snapshots=8, seed=0)
    lstm = LSTMParams(
        lstm_units=8, second_lstm_units=4, dense_units=4, max_epochs=2, batch_size=64, patience=1
    )

    def fitted() -> ChurnEnsemble:
        return ChurnEnsemble(
            window_days=30,
            seed=0,
            rf_params={"n_estimators": 15, "n_jobs": 1},
            lstm_params=lstm,
            n_folds=2,
        ).fit(
            world.churn,
            world.sequences,
            world.churn["churned_within_30d"],
            world.churn["snapshot_date"],
        )

    on_dask = fitted()
    monkeypatch.delenv(settings.ENV_DASK_SCHEDULER)
    local = fitted()

    np.testing.assert_allclose(on_dask.oof_.forest, local.oof_.forest, atol=1e-12)
    np.testing.assert_allclose(on_dask.oof_.lstm, local.oof_.lstm, atol=1e-5)
    np.testing.assert_allclose(
        on_dask.predict_proba(world.churn, world.sequences),
        local.predict_proba(world.churn, world.sequences),
        atol=1e-5,
    )
    assert on_dask.fit_seconds_["forest_oof"] > 0


@pytest.mark.parametrize("fit", [fit_xgboost, fit_lightgbm], ids=["xgboost", "lightgbm"])
def test_boosting_on_partitions_reaches_the_single_machine_quality(fit, boosting_data, on_cluster):
    root, frame = boosting_data
    columns = [f"x{i}" for i in range(6)]
    train, test = frame.iloc[:4500], frame.iloc[4500:]
    partitions = read_feature_partitions(
        "feat_client_churn", root=str(root), blocksize=SMALL_BLOCKS
    )
    partitions = partitions[partitions["row"] < len(train)]

    with dask_client() as client:
        assert partitions.npartitions > 1
        distributed_model = fit(client, partitions, columns, "label", BOOSTING)
    local = _local_twin(fit)(**BOOSTING).fit(train[columns], train["label"])

    distributed_auc = roc_auc_score(
        test["label"], distributed_model.predict_proba(test[columns])[:, 1]
    )
    local_auc = roc_auc_score(test["label"], local.predict_proba(test[columns])[:, 1])
    assert distributed_auc > 0.7
    assert distributed_auc == pytest.approx(local_auc, abs=QUALITY_TOLERANCE)


def _local_twin(fit):
    from lightgbm import LGBMClassifier
    from xgboost import XGBClassifier

    return XGBClassifier if fit is fit_xgboost else LGBMClassifier


def test_scores_computed_partition_by_partition_equal_one_call(boosting_data, on_cluster):
    root, frame = boosting_data
    columns = [f"x{i}" for i in range(6)]
    model = _local_twin(fit_xgboost)(**BOOSTING).fit(frame[columns], frame["label"])

    def predict(part: pd.DataFrame) -> np.ndarray:
        return model.predict_proba(part[columns])[:, 1]

    partitions = read_feature_partitions(
        "feat_client_churn", root=str(root), blocksize=SMALL_BLOCKS
    )
    with dask_client() as client:
        scored = client.compute(score_partitions(predict, partitions, ["row"])).result()

    expected = predict(frame)
    np.testing.assert_allclose(scored.sort_values("row")["score"].to_numpy(), expected)
    np.testing.assert_allclose(score_in_chunks(predict, frame, chunk_rows=700), expected)
