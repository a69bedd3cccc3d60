"""A tiny known-truth send-time world: three client types, each with its own peak hour."""

import numpy as np

from roi_assets.send_time.environment import HOURS_PER_WEEK, SendTimeEnvironment

PEAK_HOURS = (9, 2 * 24 + 19, 5 * 24 + 10)  # Monday 09:00, Wednesday 19:00, Saturday 10:00
N_CLIENTS = 600


def peaked_open_probability(peak: int, width: float = 4.0) -> np.ndarray:
    """5 % everywhere, rising to 50 % at the peak hour (circular over the week)."""
    hours = np.arange(HOURS_PER_WEEK)
    distance = np.minimum(np.abs(hours - peak), HOURS_PER_WEEK - np.abs(hours - peak))
    return 0.05 + 0.45 * np.exp(-(distance**2) / (2 * width**2))


def three_type_world(seed: int = 0) -> SendTimeEnvironment:
    """Clients of three types (one-hot in the first state features, noise elsewhere); the first
    half trains, the second half is held out."""
    rng = np.random.default_rng(seed)
    types = rng.integers(0, 3, N_CLIENTS)
    states = rng.normal(0.0, 0.3, (N_CLIENTS, 20)).astype(np.float32)
    states[:, :3] = np.eye(3)[types]
    curves = np.stack([peaked_open_probability(peak) for peak in PEAK_HOURS])
    open_probability = curves[types]
    return SendTimeEnvironment(
        states,
        open_probability,
        0.2 * open_probability,
        click_weight=1.0,
        training_clients=np.arange(N_CLIENTS // 2),
        seed=seed,
    )
