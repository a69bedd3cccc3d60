"""A tiny known-truth send-time world: three client types, each with its own peak hour, and
its clients, logged sends and truth shaped like the warehouse tables the assets read."""

import datetime as dt

import numpy as np
import polars as pl

from roi_assets.send_time.environment import HOURS_PER_WEEK, STATE_FEATURES, SendTimeEnvironment

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


def client_ids(n: int = N_CLIENTS) -> list[str]:
    return [f"C{i:04d}" for i in range(n)]


def client_state_frame(world: SendTimeEnvironment) -> pl.DataFrame:
    """The world's clients as `states.client_states` returns them (UTC offset -5 for all)."""
    return pl.DataFrame(
        {
            "client_id": client_ids(world.n_clients),
            "as_of": dt.datetime(2025, 6, 1),
            "utc_offset_hours": -5.0,
        }
    ).hstack(pl.DataFrame(world.states, schema=list(STATE_FEATURES)))


def logged_send_frame(world: SendTimeEnvironment, n_sends: int, seed: int = 0) -> pl.DataFrame:
    """Sends to random clients at uniformly random hours, shaped like `states.logged_send_states`
    (each client's state held fixed), with outcomes drawn from the world's probabilities."""
    rng = np.random.default_rng(seed)
    clients = rng.integers(0, world.n_clients, n_sends)
    hours = rng.integers(0, HOURS_PER_WEEK, n_sends)
    rows = np.arange(n_sends)
    p_open = world.open_probabilities(clients)[rows, hours]
    p_click = world.click_probabilities(clients)[rows, hours]
    opened = rng.random(n_sends) < p_open
    clicked = opened & (rng.random(n_sends) < p_click / p_open)
    return pl.DataFrame(
        {
            "send_id": [f"S{i:06d}" for i in rows],
            "client_id": np.asarray(client_ids(world.n_clients))[clients],
            "sent_at": [dt.datetime(2025, 1, 6) + dt.timedelta(minutes=int(i)) for i in rows],
            "hour_of_week": hours,
            "opened": opened.astype(np.int32),
            "clicked": clicked.astype(np.int32),
            "logging_propensity": np.full(n_sends, 1.0 / HOURS_PER_WEEK),
        }
    ).hstack(pl.DataFrame(world.states[clients], schema=list(STATE_FEATURES)))


def hour_probability_frame(world: SendTimeEnvironment) -> pl.DataFrame:
    """The world's truth shaped like `truth_tables.send_hour_probabilities`."""
    clients = np.arange(world.n_clients)
    return pl.DataFrame(
        {
            "client_id": np.repeat(client_ids(world.n_clients), HOURS_PER_WEEK),
            "hour_of_week_local": np.tile(np.arange(HOURS_PER_WEEK), world.n_clients),
            "p_open": world.open_probabilities(clients).ravel(),
            "p_click": world.click_probabilities(clients).ravel(),
        }
    )
