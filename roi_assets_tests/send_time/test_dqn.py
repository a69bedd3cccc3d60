import numpy as np
import pytest
import torch
from torch import nn

from roi_assets.send_time.dqn import (
    DQNAgent,
    DQNConfig,
    ReplayBuffer,
    TrainingHistory,
    doubly_robust_rewards,
    epsilon_at,
    q_targets,
    settling_index,
)
from roi_assets.send_time.environment import Transitions
from roi_assets.send_time.policies import (
    DQNGreedyPolicy,
    OracleBestHourPolicy,
    UniformRandomPolicy,
    evaluate_policies,
)

from .worlds import three_type_world


def random_transitions(n: int, seed: int = 0, state_dim: int = 20) -> Transitions:
    rng = np.random.default_rng(seed)
    return Transitions(
        states=rng.normal(size=(n, state_dim)).astype(np.float32),
        actions=rng.integers(0, 168, n),
        rewards=rng.integers(0, 2, n).astype(np.float64),
    )


def parameters_of(network: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in network.parameters()]


def same(left: list[torch.Tensor], right: list[torch.Tensor]) -> bool:
    return all(torch.equal(a, b) for a, b in zip(left, right, strict=True))


def test_the_q_network_has_the_specified_layers():
    agent = DQNAgent(DQNConfig(device="cpu"))
    linear = [m for m in agent.q_network if isinstance(m, nn.Linear)]
    dropouts = [m for m in agent.q_network if isinstance(m, nn.Dropout)]
    sizes = [(m.in_features, m.out_features) for m in linear]
    assert sizes == [(20, 128), (128, 64), (64, 32), (32, 168)]
    assert [d.p for d in dropouts] == [0.2, 0.2]
    assert isinstance(agent.optimizer, torch.optim.Adam)
    assert agent.optimizer.param_groups[0]["lr"] == 0.001
    assert agent.replay.capacity == 10_000


def test_the_target_network_only_changes_at_its_sync_interval():
    agent = DQNAgent(DQNConfig(target_sync_interval=5, batch_size=16, device="cpu"))
    agent.remember(random_transitions(64))
    target_before = parameters_of(agent.target_network)
    for _ in range(4):
        agent.learn_step()
        assert same(parameters_of(agent.target_network), target_before)
    assert not same(parameters_of(agent.q_network), target_before)
    agent.learn_step()
    synced = parameters_of(agent.target_network)
    assert not same(synced, target_before)
    assert same(synced, parameters_of(agent.q_network))
    for _ in range(4):
        agent.learn_step()
        assert same(parameters_of(agent.target_network), synced)


def test_the_replay_buffer_keeps_only_the_newest_transitions_up_to_its_capacity():
    buffer = ReplayBuffer(capacity=10, state_dim=20)
    buffer.add(random_transitions(7, seed=1))
    assert len(buffer) == 7
    newest = random_transitions(8, seed=2)
    buffer.add(newest)
    assert len(buffer) == 10
    assert set(buffer.actions.tolist()) >= set(newest.actions.tolist())
    buffer.add(random_transitions(25, seed=3))
    assert len(buffer) == 10
    assert sorted(buffer.actions.tolist()) == sorted(random_transitions(25, seed=3).actions[-10:])


def test_epsilon_decays_exponentially_to_its_floor():
    config = DQNConfig(epsilon_start=1.0, epsilon_end=0.1, epsilon_decay_rate=0.9)
    assert epsilon_at(0, config) == 1.0
    assert epsilon_at(3, config) == pytest.approx(0.729)
    assert epsilon_at(100, config) == 0.1


def test_epsilon_decays_linearly_over_the_configured_iterations():
    config = DQNConfig(
        epsilon_start=1.0, epsilon_end=0.2, epsilon_decay="linear", epsilon_decay_iterations=8
    )
    assert [round(epsilon_at(t, config), 3) for t in (0, 2, 4, 8, 50)] == [1.0, 0.8, 0.6, 0.2, 0.2]


def test_training_follows_the_epsilon_schedule_across_calls(world):
    config = DQNConfig(epsilon_decay_rate=0.8, learning_starts=10_000, device="cpu")
    agent = DQNAgent(config)
    first = agent.train(world, 3)
    second = agent.train(world, 2)
    expected = [epsilon_at(t, config) for t in range(5)]
    assert np.allclose(np.concatenate([first.epsilon, second.epsilon]), expected)
    assert second.to_frame()["iteration"].tolist() == [4, 5]


def test_the_q_target_of_a_last_send_is_its_reward_and_others_bootstrap_in_reward_units():
    rewards = torch.tensor([1.0, 0.0, 1.0])
    next_max_q = torch.tensor([0.5, 0.5, 0.5])
    terminal = torch.tensor([1.0, 1.0, 0.0])
    assert q_targets(rewards, next_max_q, terminal, 0.0).tolist() == [1.0, 0.0, 1.0]
    # (1 - γ)·r + γ·max Q_target(s'): a weighted average of this open and the next ones
    assert q_targets(rewards, next_max_q, terminal, 0.9).tolist() == pytest.approx([1, 0, 0.55])


def test_doubly_robust_rewards_correct_the_model_only_at_the_logged_hour():
    model = torch.full((2, 168), 0.2)
    actions = torch.tensor([5, 7])
    observed = torch.tensor([1.0, 0.0])
    weights = torch.tensor([0.5, 2.0])
    rewards = doubly_robust_rewards(model, actions, observed, weights)
    assert rewards[0, 5].item() == pytest.approx(0.2 + 0.5 * 0.8)
    assert rewards[1, 7].item() == pytest.approx(0.2 - 2.0 * 0.2)
    untouched = torch.ones(2, 168, dtype=torch.bool)
    untouched[0, 5] = untouched[1, 7] = False
    assert torch.all(rewards[untouched] == 0.2)


def test_the_target_network_enters_learning_on_non_terminal_transitions():
    config = DQNConfig(gamma=0.5, learning_starts=1, batch_size=8, device="cpu")
    states = np.zeros((8, 20), dtype=np.float32)
    batch = Transitions(
        states,
        np.zeros(8, dtype=np.int64),
        np.zeros(8),
        next_states=states,
        terminal=np.zeros(8),
    )
    losses = {}
    for bias in (0.0, 10.0):
        agent = DQNAgent(config)
        with torch.no_grad():
            agent.target_network[-1].bias.fill_(bias)
        agent.remember(batch)
        losses[bias] = agent.learn_step()
    # the same online network and rewards: only the bootstrapped value differs
    assert losses[10.0] > losses[0.0] + 10


def test_iterations_to_convergence_is_the_first_iteration_from_which_the_curve_stays_near_its_end():
    reward = np.array([0.1, 0.2, 0.45, 0.5, 0.49, 0.5, 0.5])
    history = TrainingHistory(
        loss=np.zeros(7), reward=reward, epsilon=np.zeros(7), window=1, tolerance=0.05
    )
    assert history.iterations_to_convergence == 4
    smoothed = TrainingHistory(
        loss=np.zeros(4),
        reward=np.array([1.0, 3.0, 2.0, 4.0]),
        epsilon=np.zeros(4),
        window=2,
        tolerance=0.0,
    )
    assert smoothed.moving_average_reward.tolist() == [1.0, 2.0, 2.5, 3.0]


def test_a_trained_dqn_sends_at_much_better_hours_than_random_within_a_few_hundred_iterations(
    world, held_out_clients
):
    agent = DQNAgent(DQNConfig(seed=3, device="cpu"))
    history = agent.train(world, 300)
    table = evaluate_policies(
        world,
        held_out_clients,
        {
            "random": UniformRandomPolicy(),
            "dqn": DQNGreedyPolicy(agent),
            "oracle": OracleBestHourPolicy(world),
        },
    ).set_index("policy")
    assert table.loc["dqn", "open_uplift_vs_random_pct"] > 200.0
    assert table.loc["dqn", "expected_open_rate"] <= table.loc["oracle", "expected_open_rate"]
    assert history.moving_average_reward[-1] > 2 * history.moving_average_reward[0]
    assert history.iterations_to_convergence < 300


def test_the_same_seed_gives_identical_weights_and_another_seed_does_not():
    def trained(seed: int) -> list[torch.Tensor]:
        agent = DQNAgent(DQNConfig(seed=seed, learning_starts=64, device="cpu"))
        agent.train(three_type_world(seed=1), 20)
        return parameters_of(agent.q_network)

    assert same(trained(11), trained(11))
    assert not same(trained(11), trained(12))


def test_training_leaves_the_global_torch_random_state_untouched(world):
    before = torch.random.get_rng_state()
    DQNAgent(DQNConfig(learning_starts=64, device="cpu")).train(world, 3)
    assert torch.equal(torch.random.get_rng_state(), before)


def test_a_saved_agent_loads_with_the_same_config_and_recommendations(tmp_path, world):
    agent = DQNAgent(DQNConfig(seed=4, learning_starts=64, target_sync_interval=7, device="cpu"))
    agent.train(world, 10)
    agent.save(tmp_path / "agent.pt")
    loaded = DQNAgent.load(tmp_path / "agent.pt", device="cpu")
    assert loaded.config == agent.config
    assert np.array_equal(loaded.best_hours(world.states), agent.best_hours(world.states))
    assert np.allclose(loaded.expected_reward(world.states), agent.expected_reward(world.states))


def test_a_source_of_another_shape_is_refused(world):
    with pytest.raises(ValueError, match="agent is 12"):
        DQNAgent(DQNConfig(state_dim=12, device="cpu")).train(world, 1)


def test_the_settling_index_is_where_a_curve_enters_its_final_band_for_good():
    assert settling_index(np.array([0.1, 0.5, 0.3, 0.49, 0.5]), 0.05) == 3
    assert settling_index(np.array([0.5, 0.51, 0.5]), 0.05) == 0


def test_histories_of_consecutive_training_calls_concatenate_into_one_curve(world):
    agent = DQNAgent(DQNConfig(seed=1, learning_starts=64, device="cpu"))
    parts = [agent.train(world, 3), agent.train(world, 2)]
    whole = TrainingHistory.concatenate(parts)
    assert len(whole.reward) == 5 and whole.first_iteration == 0
    assert whole.to_frame()["iteration"].tolist() == [1, 2, 3, 4, 5]
    assert whole.epsilon.tolist() == [*parts[0].epsilon, *parts[1].epsilon]
