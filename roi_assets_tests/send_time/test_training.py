import numpy as np
import polars as pl
import pytest
import torch

from roi_assets.send_time.dqn import DQNConfig
from roi_assets.send_time.held_out import is_held_out
from roi_assets.send_time.training import state_matrix, torch_threads, train_send_time_dqn

from .worlds import client_state_frame, logged_send_frame, three_type_world


def test_training_never_sees_a_held_out_clients_sends(trained_on_logs):
    _, _, sends, training = trained_on_logs
    held_out = is_held_out(sends["client_id"])
    assert training.n_training_sends == int((~held_out).sum())


def test_each_checkpoint_records_the_greedy_hour_of_every_held_out_client(trained_on_logs):
    _, states, _, training = trained_on_logs
    held_out_ids = sorted(states.filter(is_held_out(states["client_id"]))["client_id"])
    checkpoints = training.checkpoints
    assert sorted(checkpoints["iteration"].unique()) == [50, 100, 150, 200, 250, 300]
    last = checkpoints.filter(pl.col("iteration") == 300).sort("client_id")
    assert last["client_id"].to_list() == held_out_ids
    held_out_states = states.filter(pl.col("client_id").is_in(held_out_ids)).sort("client_id")
    assert np.array_equal(
        last["best_hour_of_week"].to_numpy(),
        training.agent.best_hours(state_matrix(held_out_states)),
    )


def test_the_history_covers_every_training_iteration(trained_on_logs):
    _, _, _, training = trained_on_logs
    assert len(training.history.reward) == 300 == training.agent.iterations
    assert training.history.first_iteration == 0


def test_held_out_clients_get_far_better_hours_than_random_from_a_dqn_trained_on_logs(
    trained_on_logs,
):
    world, states, _, training = trained_on_logs
    held_out = np.flatnonzero(is_held_out(states["client_id"]))
    hours = training.agent.best_hours(world.states[held_out])
    probabilities = world.open_probabilities(held_out)
    chosen = probabilities[np.arange(len(held_out)), hours].mean()
    assert chosen > 3 * probabilities.mean()


def test_training_without_held_out_clients_to_watch_is_refused(trained_on_logs):
    _, states, sends, _ = trained_on_logs
    with pytest.raises(ValueError, match="held-out clients"):
        train_send_time_dqn(
            sends,
            states.filter(~is_held_out(states["client_id"])),
            config=DQNConfig(device="cpu"),
            iterations=10,
            checkpoint_every=5,
        )


def test_the_thread_limit_is_restored_after_training():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def habit_logged_sends(world, n_sends: int, seed: int = 1) -> pl.DataFrame:
    """Sends logged by a policy with habits: 70 % at weekday business hours, the rest at any hour,
    each with the propensity that policy had of choosing its hour."""
    rng = np.random.default_rng(seed)
    business = np.array([d * 24 + h for d in range(5) for h in range(9, 17)])
    propensity = np.full(168, 0.3 / 168)
    propensity[business] += 0.7 / len(business)
    hours = rng.choice(168, n_sends, p=propensity)
    frame = logged_send_frame(world, n_sends, seed=seed)
    rows = np.arange(n_sends)
    clients = np.array([int(c[1:]) for c in frame["client_id"]])
    p_open = world.open_probabilities(clients)[rows, hours]
    return frame.with_columns(
        hour_of_week=pl.Series(hours),
        opened=pl.Series((rng.random(n_sends) < p_open).astype(np.int32)),
        logging_propensity=pl.Series(propensity[hours]),
    )


def test_a_dqn_learning_from_habit_logged_sends_beats_the_population_best_hour():
    """Three client types whose best hours differ (Monday 09:00, Wednesday 19:00, Saturday 10:00):
    logs mostly at weekday business hours, with their propensities, are enough for the DQN to
    send each held-out client near its own hour, far above one hour for everyone."""
    world = three_type_world(seed=3)
    states = client_state_frame(world)
    sends = habit_logged_sends(world, 15_000)
    training = train_send_time_dqn(
        sends,
        states,
        config=DQNConfig(batch_size=256, gradient_steps_per_iteration=1, device="cpu"),
        iterations=300,
        checkpoint_every=100,
        open_model_iterations=100,
    )
    held_out = np.flatnonzero(is_held_out(states["client_id"]))
    probabilities = world.open_probabilities(held_out)
    dqn = probabilities[np.arange(len(held_out)), training.agent.best_hours(world.states[held_out])]
    population_best = probabilities.mean(axis=0).max()
    assert dqn.mean() > population_best + 0.1
