"""Fixtures of the send-time tests; torch uses one thread on the shared test machine."""

import numpy as np
import pytest
import torch

from roi_assets.send_time.dqn import DQNConfig
from roi_assets.send_time.environment import SendTimeEnvironment
from roi_assets.send_time.training import train_send_time_dqn

from .worlds import N_CLIENTS, client_state_frame, logged_send_frame, three_type_world

torch.set_num_threads(1)


@pytest.fixture
def world() -> SendTimeEnvironment:
    return three_type_world()


@pytest.fixture
def held_out_clients() -> np.ndarray:
    return np.arange(N_CLIENTS // 2, N_CLIENTS)


@pytest.fixture(scope="module")
def world_for_module() -> SendTimeEnvironment:
    """The same world, shared by a module's tests that train or fit once."""
    return three_type_world()


@pytest.fixture(scope="session")
def trained_on_logs():
    """A DQN trained the product's way on 20,000 logged random-hour sends of the three-type
    world: (world, client states, logged sends, training result)."""
    world = three_type_world()
    states = client_state_frame(world)
    sends = logged_send_frame(world, 20_000)
    training = train_send_time_dqn(
        sends,
        states,
        config=DQNConfig(seed=0, device="cpu"),
        iterations=300,
        checkpoint_every=50,
        open_model_iterations=100,
    )
    return world, states, sends, training
