"""Shared fixtures: one small simulated churn world and one ensemble fitted on it per session."""

from __future__ import annotations

import pytest
import torch

from roi_assets.churn.ensemble import ChurnEnsemble
from roi_assets.churn.sequence_model import LSTMParams

from .synthetic import ChurnWorld, synthetic_churn_world


@pytest.fixture(scope="session", autouse=True)
def single_torch_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_lstm() -> LSTMParams:
    """The specification's widths are too slow for unit tests; these fit in under a second."""
    return LSTMParams(
        lstm_units=16, second_lstm_units=8, dense_units=8, max_epochs=4, batch_size=64, patience=2
    )


@pytest.fixture(scope="session")
def world() -> ChurnWorld:
    return synthetic_churn_world(n_clients=300, n_snapshots=10, seed=0)


@pytest.fixture(scope="session")
def ensemble(world: ChurnWorld, tiny_lstm: LSTMParams) -> ChurnEnsemble:
    return ChurnEnsemble(
        window_days=30,
        seed=0,
        rf_params={"n_estimators": 25, "n_jobs": 1},
        lstm_params=tiny_lstm,
        n_folds=2,
    ).fit(
        world.churn,
        world.sequences,
        world.churn["churned_within_30d"],
        world.churn["snapshot_date"],
    )
