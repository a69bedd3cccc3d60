import numpy as np
import pytest

from roi_assets.send_time.environment import STATE_FEATURES
from roi_assets.send_time.open_model import OpenProbabilityModel, state_hour_features
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
    # no engagement yet: the hour is as far as can be from a peak, on no peak's days
    assert features[:, 20:].tolist() == [[10, 5, 1, 12, 0, 0], [19, 2, 0, 12, 0, 0]]


def test_the_model_sees_how_far_an_hour_is_from_the_clients_peak_engagement_hour():
    state = np.zeros((3, 20), dtype=np.float32)
    angle = 2 * np.pi * 22 / 24  # peak at 22:00 local, on weekdays, 60 % of events near it
    state[:, STATE_FEATURES.index("engagement_peak_hour_sin")] = np.sin(angle)
    state[:, STATE_FEATURES.index("engagement_peak_hour_cos")] = np.cos(angle)
    state[:, STATE_FEATURES.index("engagement_peak_share")] = 0.6
    hours = np.array([22, 24 + 1, 6 * 24 + 22])  # Monday 22:00, Tuesday 01:00, Sunday 22:00
    features = state_hour_features(state, hours)
    assert features[:, 23].tolist() == [0, 3, 0]  # circular distance in hours
    assert features[:, 24] == pytest.approx([0, 1.8, 0])
    assert features[:, 25].tolist() == [1, 1, 0]  # a weekday habit: Sunday is not its day


def test_a_model_fitted_on_random_hour_logs_finds_each_client_types_good_hours(
    fitted, world_for_module
):
    clients = np.arange(world_for_module.n_clients)
    best = fitted.open_probabilities(world_for_module.states).argmax(axis=1)
    true_rate = world_for_module.open_probabilities(clients)[clients, best].mean()
    # peaks are 0.50; a random hour averages about 0.08, the best single hour for all about 0.2
    assert true_rate > 0.35
