"""Rows of marts.send_time_recommendations from the served model's answers.

The model recommends an hour of the week in the client's local time (0 = Monday 00:00 local); the
mart adds the same moment in UTC, using each client's UTC offset at scoring time (so a DST change
before the send shifts it by an hour, as a scheduler working in local time would not).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl

from roi_assets.send_time.environment import HOURS_PER_WEEK

RECOMMENDATION_COLUMNS = (
    "client_id",
    "best_hour_of_week_local",
    "best_hour_of_week_utc",
    "expected_open_probability",
    "model_version",
    "scored_at",
)


def utc_hour_of_week(local_hour_of_week: np.ndarray, utc_offset_hours: np.ndarray) -> np.ndarray:
    """The UTC hour of week of a local hour of week (floored for offsets that are not whole)."""
    local = np.asarray(local_hour_of_week, dtype=np.float64)
    offset = np.asarray(utc_offset_hours, dtype=np.float64)
    return (np.floor(local - offset).astype(np.int64)) % HOURS_PER_WEEK


def explore(predictions: pd.DataFrame, rate: float, seed: int | list[int]) -> pd.DataFrame:
    """The predictions with a `rate` share of rows sent at a uniformly random hour instead
    (ε-greedy in the live loop); their expected reward stays the decision's hour's."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"the exploration rate must lie in [0, 1], got {rate}")
    rng = np.random.default_rng(seed)
    explored = rng.random(len(predictions)) < rate
    hours = predictions["best_hour_of_week"].to_numpy().astype(np.int64).copy()
    hours[explored] = rng.integers(0, HOURS_PER_WEEK, int(explored.sum()))
    return predictions.assign(best_hour_of_week=hours)


def recommendation_rows(
    clients: pl.DataFrame,
    predictions: pd.DataFrame,
    model_version: str,
    scored_at: dt.datetime,
) -> pl.DataFrame:
    """One row per client of `clients` (client_id, utc_offset_hours, in the order the model was
    given their states) from the pyfunc's `best_hour_of_week` and `expected_reward`.

    The DQN's value is in open-rate units (the discounted average open probability of this
    email and the client's next ones, `dqn`), read as the expected open probability; a
    regression output may stray just outside [0, 1], hence the clip.
    """
    if len(predictions) != clients.height:
        raise ValueError("one prediction per client is needed")
    local = predictions["best_hour_of_week"].to_numpy().astype(np.int64)
    return pl.DataFrame(
        {
            "client_id": clients["client_id"],
            "best_hour_of_week_local": local,
            "best_hour_of_week_utc": utc_hour_of_week(
                local, clients["utc_offset_hours"].to_numpy()
            ),
            "expected_open_probability": np.clip(
                predictions["expected_reward"].to_numpy(dtype=np.float64), 0.0, 1.0
            ),
            "model_version": str(model_version),
            "scored_at": scored_at,
        }
    ).select(RECOMMENDATION_COLUMNS)
