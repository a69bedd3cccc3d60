import numpy as np
import pytest

from roi_assets.send_time.open_model import (
    OpenProbabilityModel,
    learned_environment,
    state_hour_features,
)
from roi_assets.send_time.training import state_matrix

from .worlds import logged_send_frame


@pytest.fixture(scope="module")
def fitted(world_for_module):
    sends = logged_send_frame(world_for_module, 20_000)
    return OpenProbabilityModel.fit(
        state_matrix(sends), sends["hour_of_week"].to_numpy(), sends["opened"].to_numpy()
    )


def test_the_hour_reaches_the_model_as_hour_of_day_day_of_week_and_weekend_flag():
    features = state_hour_features(np.zeros((2, 20)), np.array([5 * 24 + 10, 2 * 24 + 19]))
    assert features[:, 20:].tolist() == [[10, 5, 1], [19, 2, 0]]


def test_a_model_fitted_on_random_hour_logs_finds_each_client_types_good_hours(
    fitted, world_for_module
):
    clients = np.arange(world_for_module.n_clients)
    best = fitted.open_probabilities(world_for_module.states).argmax(axis=1)
    true_rate = world_for_module.open_probabilities(clients)[clients, best].mean()
    # peaks are 0.50; a random hour averages about 0.08, the best single hour for all about 0.2
    assert true_rate > 0.35


def test_the_learned_environment_hands_out_the_models_probability_as_the_reward(
    fitted, world_for_module
):
    environment = learned_environment(fitted, world_for_module.states[:50])
    batch = environment.transitions(lambda states: np.full(len(states), 9), 32)
    assert np.array_equal(batch.rewards, batch.expected_rewards)
    assert set(np.unique(batch.rewards)) - {0.0, 1.0}
