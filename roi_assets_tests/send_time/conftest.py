"""Fixtures of the send-time tests; torch uses one thread on the shared test machine."""

import numpy as np
import pytest
import torch

from roi_assets.send_time.environment import SendTimeEnvironment

from .worlds import N_CLIENTS, three_type_world

torch.set_num_threads(1)


@pytest.fixture
def world() -> SendTimeEnvironment:
    return three_type_world()


@pytest.fixture
def held_out_clients() -> np.ndarray:
    return np.arange(N_CLIENTS // 2, N_CLIENTS)
