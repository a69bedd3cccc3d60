"""The send time the industry ships: each client's most frequent engagement hour.

Email tools read a client's hours from when it opens and when it is active, and send at the hour
it engages most, with one hour for everyone (the population's best) where a client has too little
history to tell. The product computes it from the warehouse (opens at the moment they happened,
logins and document views, in the client's local time) as a baseline the DQN must beat, and
publishes it when the DQN's gate fails and it beats the population's best hour (`assets`). The
world computes the same rule from its own records for the counterfactual `engagement_hour`
policy, so both judge exactly this definition.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import polars as pl

HOURS_PER_WEEK = 168
MIN_ENGAGEMENT_EVENTS = 20  # fewer opens, logins and document views: the population's best hour
ENGAGEMENT_EVENTS = ("login", "document_view")


def most_frequent_engagement_hour(
    counts: np.ndarray, fallback_hour: int, min_events: int = MIN_ENGAGEMENT_EVENTS
) -> np.ndarray:
    """Per client (rows of `counts`, engagement events per local hour of week), the most frequent
    hour, or `fallback_hour` with fewer than `min_events` events.

    Hour of week, because the email goes out at a weekly hour and weekend habits differ from
    weekday ones; each hour scored by its own count plus its hour of day's count over the whole
    week, because 168 cells hold a few events each: the hour of day decides, the day of the week
    with most engagement at that hour breaks the tie (ties left go to the earliest hour).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[1] != HOURS_PER_WEEK:
        raise ValueError(f"counts must be (clients, {HOURS_PER_WEEK}), got {counts.shape}")
    by_hour_of_day = counts.reshape(len(counts), 7, 24).sum(axis=1)
    best = (counts + np.tile(by_hour_of_day, 7)).argmax(axis=1)
    return np.where(counts.sum(axis=1) >= min_events, best, int(fallback_hour)).astype(np.int64)


def engagement_counts(
    con: duckdb.DuckDBPyConnection, as_of: dt.datetime, client_ids: list[str]
) -> np.ndarray:
    """(len(client_ids), 168) opens, logins and document views before `as_of`, per local hour of
    week (0 = Monday 00:00 in the client's time zone), in the order of `client_ids`."""
    events = ", ".join(f"'{event}'" for event in ENGAGEMENT_EVENTS)
    frame = con.execute(
        f"""
        with engaged as (
            select client_id, occurred_at from staging.stg_email_events
            where event_type = 'open' and occurred_at < $as_of
            union all
            select client_id, occurred_at from staging.stg_user_events
            where event_type in ({events}) and occurred_at < $as_of
        ),
        local as (
            select e.client_id,
                   (e.occurred_at at time zone 'UTC') at time zone c.timezone as local_at
            from engaged as e inner join staging.stg_clients as c using (client_id)
        )
        select client_id,
               ((isodow(local_at) - 1) * 24 + hour(local_at))::integer as hour_of_week,
               count(*) as events
        from local group by all
        """,
        {"as_of": as_of},
    ).pl()
    position = {client_id: i for i, client_id in enumerate(client_ids)}
    counts = np.zeros((len(client_ids), HOURS_PER_WEEK))
    known = frame.filter(pl.col("client_id").is_in(list(position)))
    rows = np.fromiter((position[c] for c in known["client_id"]), dtype=np.int64)
    counts[rows, known["hour_of_week"].to_numpy()] = known["events"].to_numpy()
    return counts


def engagement_hour_table(
    counts: np.ndarray, client_ids: list[str], population_best_hour: int
) -> pl.DataFrame:
    """client_id, engagement_events, engagement_hour_of_week (local) and whether it is the
    population's best hour for lack of history (`fallback`)."""
    events = counts.sum(axis=1)
    return pl.DataFrame(
        {
            "client_id": client_ids,
            "engagement_events": events.astype(np.int64),
            "engagement_hour_of_week": most_frequent_engagement_hour(counts, population_best_hour),
            "fallback": events < MIN_ENGAGEMENT_EVENTS,
        }
    )
