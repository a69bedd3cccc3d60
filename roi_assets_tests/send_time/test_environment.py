import numpy as np
import pytest

from roi_assets.send_time.environment import (
    DEFAULT_STATE_DIM,
    HOURS_PER_WEEK,
    STATE_FEATURES,
    LoggedSendsReplay,
    SendTimeEnvironment,
)


def certain_world(click_probability: float = 0.0) -> SendTimeEnvironment:
    """Two clients who always open at their own hour (3 and 100) and never otherwise."""
    opens = np.zeros((2, HOURS_PER_WEEK))
    opens[0, 3] = opens[1, 100] = 1.0
    return SendTimeEnvironment(
        np.zeros((2, 20)), opens, click_probability * opens, click_weight=2.0, seed=1
    )


def test_the_state_layout_contract_names_one_feature_per_state_dimension():
    assert len(STATE_FEATURES) == len(set(STATE_FEATURES)) == DEFAULT_STATE_DIM


def test_a_send_is_opened_exactly_as_often_as_the_true_probability_says():
    world = certain_world()
    world.reset(np.array([0, 1]))
    assert world.step(np.array([3, 3])).tolist() == [1.0, 0.0]
    world.reset(np.array([0, 1]))
    assert world.step(np.array([4, 100])).tolist() == [0.0, 1.0]


def test_a_click_adds_its_weight_to_the_reward_and_only_happens_after_an_open():
    world = certain_world(click_probability=1.0)
    world.reset(np.array([0, 1]))
    assert world.step(np.array([3, 5])).tolist() == [1.0 + 2.0, 0.0]


def test_sampled_rewards_average_to_the_expected_reward():
    rng = np.random.default_rng(0)
    opens = rng.uniform(0.1, 0.6, (5, HOURS_PER_WEEK))
    world = SendTimeEnvironment(np.zeros((5, 20)), opens, 0.3 * opens, click_weight=1.0, seed=2)
    clients = np.repeat(np.arange(5), 8_000)
    hours = np.full(len(clients), 42)
    world.reset(clients)
    rewards = world.step(hours)
    expected = world.expected_rewards(np.arange(5))[:, 42]
    assert np.allclose(rewards.reshape(5, -1).mean(axis=1), expected, atol=0.03)


def test_a_click_probability_above_the_open_probability_is_rejected():
    opens = np.full((1, HOURS_PER_WEEK), 0.1)
    world = SendTimeEnvironment(np.zeros((1, 20)), opens, opens + 0.05)
    with pytest.raises(ValueError, match="click implies an open"):
        world.click_probabilities(np.array([0]))


def test_probabilities_may_come_from_a_function_of_client_indices():
    table = np.random.default_rng(0).uniform(size=(4, HOURS_PER_WEEK))
    world = SendTimeEnvironment(np.zeros((4, 20)), lambda clients: table[clients])
    assert np.array_equal(world.open_probabilities(np.array([2, 0])), table[[2, 0]])


def test_stepping_without_a_reset_is_refused_because_each_send_is_a_new_episode():
    world = certain_world()
    world.reset(np.array([0]))
    world.step(np.array([3]))
    with pytest.raises(RuntimeError, match="reset"):
        world.step(np.array([3]))


def test_environment_transitions_only_sample_training_clients_and_act_with_the_policy():
    states = np.arange(10, dtype=np.float32)[:, None].repeat(20, axis=1)
    world = SendTimeEnvironment(
        states, np.full((10, HOURS_PER_WEEK), 0.5), training_clients=np.array([1, 2]), seed=0
    )
    batch = world.transitions(lambda s: np.full(len(s), 7), batch_size=50)
    assert set(batch.states[:, 0].tolist()) <= {1.0, 2.0}
    assert (batch.actions == 7).all()
    assert np.allclose(batch.expected_rewards, 0.5)
    assert batch.next_states is None


def test_logged_transitions_replay_the_logged_hours_whatever_the_policy_wants():
    replay = LoggedSendsReplay(
        np.eye(3, 20), hours=[5, 6, 7], opened=[1, 0, 1], clicked=[1, 0, 0], click_weight=0.5
    )
    batch = replay.transitions(lambda s: np.zeros(len(s), dtype=int), batch_size=30)
    logged_reward = {5: 1.5, 6: 0.0, 7: 1.0}
    assert set(batch.actions.tolist()) <= {5, 6, 7}
    assert [logged_reward[a] for a in batch.actions] == batch.rewards.tolist()
    assert batch.expected_rewards is None


def test_replay_estimate_is_hand_checkable_on_a_tiny_log():
    replay = LoggedSendsReplay(
        np.zeros((4, 20)),
        hours=[1, 1, 2, 3],
        opened=[1, 0, 1, 1],
        clicked=[1, 0, 0, 0],
        propensities=[0.5, 0.5, 0.25, 0.25],
    )
    estimate = replay.estimate(np.array([1, 1, 1, 3]))
    # matched rows 0, 1, 3 with weights 2, 2, 4
    assert estimate.n_matched == 3
    assert estimate.replay_open_rate == pytest.approx((2 + 0 + 4) / 8)
    assert estimate.replay_click_rate == pytest.approx(2 / 8)
    assert estimate.ips_open_rate == pytest.approx((2 + 0 + 4) / 4)


def test_replay_of_uniformly_logged_sends_recovers_a_fixed_hours_true_open_rate():
    rng = np.random.default_rng(5)
    n = 200_000
    true_rate = np.linspace(0.05, 0.5, HOURS_PER_WEEK)
    hours = rng.integers(0, HOURS_PER_WEEK, n)
    opened = rng.random(n) < true_rate[hours]
    replay = LoggedSendsReplay(np.zeros((n, 20)), hours, opened, np.zeros(n))
    estimate = replay.estimate(np.full(n, 160))
    assert estimate.n_matched == pytest.approx(n / HOURS_PER_WEEK, rel=0.1)
    assert estimate.replay_open_rate == pytest.approx(true_rate[160], abs=0.04)


def test_an_environment_that_does_not_sample_hands_out_expected_rewards():
    open_probability = np.full((4, HOURS_PER_WEEK), 0.3)
    environment = SendTimeEnvironment(
        np.zeros((4, 20)), open_probability, click_weight=1.0, sample_rewards=False
    )
    batch = environment.transitions(lambda states: np.zeros(len(states), dtype=np.int64), 16)
    assert batch.rewards.tolist() == [0.3] * 16
    assert np.array_equal(batch.rewards, batch.expected_rewards)
