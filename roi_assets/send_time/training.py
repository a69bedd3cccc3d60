"""Training the send-time DQN from the warehouse's logged sends, with checkpoints to judge it by.

Steps: hold out a fixed share of clients (`held_out`), chain the other clients' logged sends into
transitions and fit the reward model on them (`off_policy`), then let the DQN learn from those
transitions with doubly robust targets. From scratch (pre-training), or continuing an earlier
agent (the daily update): the sends since that agent last learned enter its replay first. After
every `checkpoint_every` iterations the greedy hour the DQN would recommend to each held-out
client is recorded; the checkpoints carry no outcome and no truth, the evaluation turns them into
a learning curve of true open rates, which says how many iterations the DQN needed to converge.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import polars as pl
import torch

from roi_assets.send_time.dqn import DQNAgent, DQNConfig, TrainingHistory
from roi_assets.send_time.environment import STATE_FEATURES
from roi_assets.send_time.held_out import HELD_OUT_FRACTION, is_held_out
from roi_assets.send_time.off_policy import (
    LoggedTransitionSource,
    chain_transitions,
    fit_reward_model,
)
from roi_assets.send_time.open_model import OpenProbabilityModel

CHECKPOINT_COLUMNS = ("iteration", "client_id", "best_hour_of_week")


@contextmanager
def torch_threads(n_threads: int) -> Iterator[None]:
    """Run torch on `n_threads` CPU threads and restore the previous count afterwards: the tiny
    network is fastest on one thread, and other assets in the process keep their setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def state_matrix(frame: pl.DataFrame) -> np.ndarray:
    """The state columns of a state table as a float32 (rows × 20) array, in contract order."""
    return frame.select(STATE_FEATURES).to_numpy().astype(np.float32)


@dataclass(frozen=True)
class SendTimeTraining:
    """A trained agent, the reward model of its targets and the record of its training.

    `checkpoints` has one row per (checkpoint iteration, held-out client) with the hour the agent
    would have recommended at that point (`CHECKPOINT_COLUMNS`). `n_new_sends` counts the sends
    after `new_since` that a continued agent learned from first.
    """

    agent: DQNAgent
    reward_model: OpenProbabilityModel
    history: TrainingHistory
    checkpoints: pl.DataFrame
    n_training_sends: int
    n_training_clients: int
    n_new_sends: int
    seconds: float


def train_send_time_dqn(
    logged_sends: pl.DataFrame,
    client_states: pl.DataFrame,
    *,
    config: DQNConfig,
    iterations: int,
    checkpoint_every: int,
    open_model_iterations: int = 200,
    held_out_fraction: float = HELD_OUT_FRACTION,
    agent: DQNAgent | None = None,
    new_since: dt.datetime | None = None,
) -> SendTimeTraining:
    """Train on the clients outside the held-out share: a new agent, or `agent` continued with
    the sends after `new_since` first.

    `logged_sends` is `states.logged_send_states` (state as of each send, hour of week, opened,
    logging propensity); `client_states` is `states.client_states` (each client's state now).
    """
    if iterations < 1 or checkpoint_every < 1:
        raise ValueError("iterations and checkpoint_every must be positive")
    started = time.perf_counter()
    sends = logged_sends.filter(~is_held_out(logged_sends["client_id"], held_out_fraction))
    clients_held_out = is_held_out(client_states["client_id"], held_out_fraction)
    training_clients = client_states.filter(~clients_held_out)
    watched = client_states.filter(clients_held_out)
    if sends.is_empty() or training_clients.is_empty() or watched.is_empty():
        raise ValueError("training needs logged sends, training clients and held-out clients")

    transitions = chain_transitions(sends, training_clients)
    reward_model = fit_reward_model(transitions, open_model_iterations, config.seed)
    source = LoggedTransitionSource(
        transitions, reward_model, new_since=new_since, seed=config.seed
    )
    agent = agent or DQNAgent(config)
    watched_states = state_matrix(watched)
    parts, checkpoints = [], []
    for start in range(0, iterations, checkpoint_every):
        parts.append(agent.train(source, min(checkpoint_every, iterations - start)))
        checkpoints.append(
            pl.DataFrame(
                {
                    "iteration": np.full(
                        watched.height, start + len(parts[-1].reward), dtype=np.int64
                    ),
                    "client_id": watched["client_id"],
                    "best_hour_of_week": agent.best_hours(watched_states),
                }
            )
        )
    return SendTimeTraining(
        agent=agent,
        reward_model=reward_model,
        history=TrainingHistory.concatenate(parts),
        checkpoints=pl.concat(checkpoints),
        n_training_sends=len(transitions),
        n_training_clients=training_clients.height,
        n_new_sends=source.n_new,
        seconds=time.perf_counter() - started,
    )
