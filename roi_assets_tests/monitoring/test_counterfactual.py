import numpy as np
import pandas as pd
import polars as pl
import pytest

from roi_assets.churn.ensemble import ChurnEnsemble
from roi_assets.churn.features import CHURN_FEATURES
from roi_assets.churn.sequence_model import LSTMParams
from roi_assets.churn.tiers import HIGH_RISK
from roi_assets.monitoring.explain.counterfactual import (
    ACTIONABLE,
    HIGH_TIER,
    Change,
    counterfactual_targets,
    find_counterfactual,
    off_the_watch_list,
    stack_counterfactuals,
    value_grid,
)
from roi_assets_tests.churn.synthetic import synthetic_churn_world

INTEGRATIONS = CHURN_FEATURES.index("integration_count")
RENEWAL = CHURN_FEATURES.index("contract_renewal_proximity")


def _training(n: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, len(CHURN_FEATURES))), columns=list(CHURN_FEATURES))
    frame["integration_count"] = rng.integers(0, 8, n).astype(float)
    frame["contract_renewal_proximity"] = rng.uniform(0, 365, n)
    return frame


def _risk(matrix: np.ndarray) -> np.ndarray:
    """Risk falls with integrations and rises as the renewal date nears (not actionable)."""
    logit = 2.0 - 0.8 * matrix[:, INTEGRATIONS] - 0.004 * matrix[:, RENEWAL]
    return 1 / (1 + np.exp(-logit))


def test_only_actionable_features_change_and_within_realistic_values():
    grids = value_grid(_training())
    client = np.zeros(len(CHURN_FEATURES))
    client[INTEGRATIONS], client[RENEWAL] = 0.0, 20.0
    assert _risk(client[None])[0] >= HIGH_RISK

    found = find_counterfactual(_risk, client, grids)

    assert found.reached and found.risk_after < HIGH_RISK <= found.risk_before
    assert [change.feature for change in found.changes] == ["integration_count"]
    change = found.changes[0]
    assert grids["integration_count"].min() <= change.after <= grids["integration_count"].max()
    # the smallest step that suffices: 2 integrations give 0.57, 1 would leave 0.76
    assert change.after == 2.0
    assert found.in_words().startswith("Raise integrations connected from 0 to 2")
    assert "below the high tier (60%)" in found.in_words()


def test_a_listed_client_below_the_high_tier_is_taken_off_the_watch_list():
    grids = value_grid(_training())
    client = np.zeros(len(CHURN_FEATURES))
    client[INTEGRATIONS], client[RENEWAL] = 2.0, 300.0
    assert _risk(client[None])[0] < HIGH_RISK

    found = find_counterfactual(_risk, client, grids, target=off_the_watch_list(0.2))

    assert found.reached and found.risk_after < 0.2
    assert [change.feature for change in found.changes] == ["integration_count"]
    assert "below the watch list's cut-off (20%)" in found.in_words()


def test_high_risk_clients_aim_below_the_high_tier_and_listed_ones_off_the_list():
    window = pl.DataFrame(
        {
            "client_id": ["calm", "listed", "critical", "quiet", "high"],
            "probability": [0.10, 0.35, 0.85, 0.05, 0.65],
            "on_watch_list": [False, True, True, False, True],
        }
    )

    targets = counterfactual_targets(window, max_clients=10)

    assert list(targets) == ["critical", "high", "listed"]  # riskiest first, unlisted left out
    assert targets["critical"] == targets["high"] == HIGH_TIER
    assert targets["listed"] == off_the_watch_list(0.10)  # the riskiest client left off the list
    assert list(counterfactual_targets(window, max_clients=2)) == ["critical", "high"]


def test_features_only_move_in_the_direction_of_improvement():
    grids = value_grid(_training())
    client = np.zeros(len(CHURN_FEATURES))
    client[INTEGRATIONS], client[RENEWAL] = 0.0, 20.0

    # A model that rewards every move the wrong way, and only integrations the right way.
    wrong_way = np.zeros(len(CHURN_FEATURES))
    for name, feature in ACTIONABLE.items():
        wrong_way[CHURN_FEATURES.index(name)] = -1.0 if feature.better_lower else 1.0
    wrong_way[INTEGRATIONS] = -1.0

    def risk(matrix: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(3.0 + 0.8 * matrix @ wrong_way)))

    found = find_counterfactual(risk, client, grids)

    assert [change.feature for change in found.changes] == ["integration_count"]
    assert found.changes[0].after > found.changes[0].before


def test_small_changes_are_told_with_three_significant_digits():
    assert (
        Change("data_volume_uploaded_gb", 0.0107, 0.0143).in_words(whole_numbers=False)
        == "raise data uploaded (GB) from 0.0107 to 0.0143"
    )
    assert (
        Change("team_members_invited", 0.0, 2.0).in_words(whole_numbers=True)
        == "raise team members invited from 0 to 2"
    )


def test_a_client_no_actionable_change_can_help_is_told_so():
    grids = value_grid(_training())
    client = np.zeros(len(CHURN_FEATURES))

    found = find_counterfactual(lambda m: np.full(len(m), 0.9), client, grids)

    assert not found.reached and found.changes == ()
    assert found.in_words() == "no actionable change lowers the churn risk from 90%"


@pytest.fixture(scope="module")
def fitted_world():
    world = synthetic_churn_world(n_clients=200, n_snapshots=8, seed=1)
    ensemble = ChurnEnsemble(
        window_days=30,
        rf_params={"n_estimators": 25, "n_jobs": 1},
        lstm_params=LSTMParams(
            lstm_units=8, second_lstm_units=4, dense_units=4, max_epochs=2, batch_size=64
        ),
        n_folds=2,
    ).fit(
        world.churn,
        world.sequences,
        world.churn["churned_within_30d"],
        world.churn["snapshot_date"],
    )
    return world, ensemble


def test_the_served_stack_of_a_high_risk_client_falls_below_the_high_tier(fitted_world):
    world, ensemble = fitted_world
    risks = ensemble.predict_proba(world.churn, world.sequences)
    client = int(np.argmax(risks))
    assert risks[client] >= HIGH_RISK
    grids = value_grid(world.churn)

    [found] = stack_counterfactuals(
        ensemble, world.churn[client : client + 1], world.sequences[client : client + 1], grids
    )

    assert found.reached, found.in_words()
    assert found.changes and {c.feature for c in found.changes} <= set(ACTIONABLE)
    for change in found.changes:
        assert grids[change.feature].min() <= change.after <= grids[change.feature].max()
