import datetime as dt

import numpy as np
import polars as pl
import pytest

from roi_assets.send_time.environment import STATE_FEATURES
from roi_assets.send_time.off_policy import (
    MAX_WEIGHT,
    LoggedTransitionSource,
    chain_transitions,
    fit_reward_model,
    importance_weights,
)


def frame(rows: list[tuple], columns: list[str]) -> pl.DataFrame:
    base = pl.DataFrame(rows, schema=columns, orient="row")
    marker = base["marker"].to_numpy()
    return base.drop("marker").hstack(
        pl.DataFrame({f: marker.astype(np.float32) for f in STATE_FEATURES})
    )


@pytest.fixture
def logged() -> pl.DataFrame:
    columns = ["send_id", "client_id", "sent_at", "hour_of_week", "opened", "logging_propensity"]
    day = dt.datetime(2025, 3, 3)
    return frame(
        [
            ("s2", "A", day + dt.timedelta(days=2), 10, 0, 1 / 168, 2.0),
            ("s1", "A", day, 9, 1, 1 / 20, 1.0),
            ("s3", "B", day + dt.timedelta(days=1), 30, 1, 1 / 1000, 5.0),
        ],
        [*columns, "marker"],
    )


@pytest.fixture
def now() -> pl.DataFrame:
    return frame([("A", 3.0), ("B", 6.0)], ["client_id", "marker"])


def test_a_send_leads_to_the_clients_next_send_and_the_last_one_to_its_state_now(logged, now):
    transitions = chain_transitions(logged, now)
    # time order: s1 (A), s3 (B), s2 (A)
    assert transitions.actions.tolist() == [9, 30, 10]
    assert transitions.states[:, 0].tolist() == [1.0, 5.0, 2.0]
    assert transitions.next_states[:, 0].tolist() == [2.0, 6.0, 3.0]
    assert transitions.rewards.tolist() == [1.0, 1.0, 0.0]


def test_importance_weights_compare_the_logging_policy_with_uniform_logging_and_are_clipped():
    weights = importance_weights(np.array([1 / 168, 1 / 20, 1 / 10_000]))
    assert weights == pytest.approx([1.0, 20 / 168, MAX_WEIGHT])
    with pytest.raises(ValueError, match="positive"):
        importance_weights(np.array([0.0]))


def test_the_source_hands_out_the_sends_landed_since_first_with_the_models_estimates(logged, now):
    rng = np.random.default_rng(0)
    many = pl.concat(
        [
            logged.with_columns(pl.col("send_id") + str(i), opened=rng.integers(0, 2))
            for i in range(40)
        ]
    )
    transitions = chain_transitions(many, now)
    model = fit_reward_model(transitions, max_iter=5)
    source = LoggedTransitionSource(transitions, model, new_since=dt.datetime(2025, 3, 4, 12))
    batch = source.transitions(lambda states: states, 45)
    assert source.n_new == 40  # the 40 copies of s2, sent on March 5
    assert batch.actions[:40].tolist() == [10] * 40
    assert batch.model_rewards.shape == (45, 168)
    assert ((batch.model_rewards > 0) & (batch.model_rewards < 1)).all()
    assert batch.weights[:40] == pytest.approx([1.0] * 40)
