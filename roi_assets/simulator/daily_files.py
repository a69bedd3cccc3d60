"""One file per source per day, named by the date it covers, as daily exports arrive.

What misbehaves in real exports misbehaves here too: a few webhooks are delivered a day or two
after they happened (in a later day's file), some are delivered twice, a rare one is malformed,
and the CRM export now and then carries a hand-typed row that breaks its contract.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from roi_assets.simulator import catalog
from roi_assets.simulator.landing import (
    corrupt_some_webhooks,
    write_csv,
    write_json_lines,
    write_parquet,
)
from roi_assets.simulator.population import Population

LATE_WEBHOOK_SHARE = 0.02  # delivered 1–2 days after they happened
CRM_TYPO_EVERY_DAYS = 30
USER_EVENT_COLUMNS = [
    "event_id",
    "client_id",
    "event_type",
    "occurred_at",
    "feature_name",
    "sentiment",
    "nps_score",
    "size_mb",
    "duration_minutes",
]


def daily_path(landing_dir: Path, source: str, date: dt.date, extension: str) -> Path:
    return landing_dir / source / f"{source}_{date.isoformat()}.{extension}"


def schedule_deliveries(
    pending: dict[str, pd.DataFrame],
    sends: pd.DataFrame,
    email_events: pd.DataFrame,
    world: Population,
    rng: np.random.Generator,
) -> None:
    """Queue the day's sends and webhook events for the day they reach the sources' exports."""
    start = pd.Timestamp(world.config.start_date)
    sends = sends.assign(_delivery_day=(sends["sent_at"] - start).dt.days.astype(np.int64))
    happened = (email_events["occurred_at"] - start).dt.days.astype(np.int64)
    late = rng.random(len(email_events)) < LATE_WEBHOOK_SHARE
    delay = rng.integers(1, 3, len(email_events))
    events = email_events.assign(_delivery_day=happened + np.where(late, delay, 0))
    for name, frame in (("sends", sends), ("events", events)):
        previous = pending.get(name)
        pending[name] = frame if previous is None else pd.concat([previous, frame])


def write_day_files(
    landing_dir: Path,
    world: Population,
    day: int,
    pending: dict[str, pd.DataFrame],
    user_events: pd.DataFrame,
    new_client_idx: np.ndarray,
    churned_client_idx: np.ndarray,
    churn_day: np.ndarray,
    next_event_id: int,
    rng: np.random.Generator,
) -> dict[str, int]:
    """Write the day's file of every source (those not written yet); returns rows per source."""
    date = world.date(day)
    rows: dict[str, int] = {}
    clients = world.clients.table.iloc[new_client_idx]
    if day % CRM_TYPO_EVERY_DAYS == 0 and len(world.clients.table):
        typo = world.clients.table.iloc[[int(rng.integers(0, len(world.clients.table)))]]
        clients = pd.concat(
            [clients, typo.assign(client_id=f"X{day:07d}", geographic_region="atlantis")]
        )
    write_csv(daily_path(landing_dir, "clients", date, "csv"), clients)
    rows["clients"] = len(clients)

    changed = np.union1d(new_client_idx, churned_client_idx)
    subscriptions = subscription_rows(world, changed, churn_day)
    write_csv(daily_path(landing_dir, "subscriptions", date, "csv"), subscriptions)
    rows["subscriptions"] = len(subscriptions)

    if day % 7 == 0:  # the analytics feed publishes the week's index on its Monday
        market = market_rows(world, day)
        write_csv(daily_path(landing_dir, "market_index", date, "csv"), market)
        rows["market_index"] = len(market)

    sends = _due(pending, "sends", day)
    write_parquet(daily_path(landing_dir, "email_sends", date, "parquet"), sends)
    rows["email_sends"] = len(sends)

    events = _due(pending, "events", day).assign(
        occurred_at=lambda f: f["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    records = corrupt_some_webhooks(events.to_dict("records"), rng)
    write_json_lines(daily_path(landing_dir, "email_events", date, "jsonl"), records)
    rows["email_events"] = len(records)

    ids = world.clients.table["client_id"].to_numpy()
    activity = user_events.assign(
        event_id=np.arange(next_event_id, next_event_id + len(user_events), dtype=np.int64),
        client_id=ids[user_events["client_idx"].to_numpy(dtype=np.int64)],
    )[USER_EVENT_COLUMNS]
    write_parquet(daily_path(landing_dir, "user_events", date, "parquet"), activity)
    rows["user_events"] = len(activity)
    return rows


def _due(pending: dict[str, pd.DataFrame], name: str, day: int) -> pd.DataFrame:
    """Take the rows delivered on `day` out of the queue."""
    frame = pending.get(name, pd.DataFrame(columns=["_delivery_day"]))
    due = frame["_delivery_day"] == day
    pending[name] = frame.loc[~due]
    return frame.loc[due].drop(columns="_delivery_day").reset_index(drop=True)


def subscription_rows(
    world: Population, client_idx: np.ndarray, churn_day: np.ndarray
) -> pd.DataFrame:
    """The billing export's rows of these clients' subscriptions, as they stand: cancelled on
    the day the client churned."""
    table = world.clients.table.iloc[client_idx]
    churned = churn_day[client_idx]
    start = np.datetime64(world.config.start_date, "D")
    cancelled = np.where(
        np.isfinite(churned),
        start + np.nan_to_num(churned, posinf=0).astype("timedelta64[D]"),
        np.datetime64("NaT"),
    )
    tier = table["client_value_tier"].to_numpy()
    plan = np.select([tier == "enterprise", tier == "premium"], ["team", "pro"], "basic")
    fee = np.select([plan == "team", plan == "pro"], [249.0, 99.0], 39.0)
    return pd.DataFrame(
        {
            "subscription_id": [f"S{cid[1:]}" for cid in table["client_id"]],
            "client_id": table["client_id"].to_numpy(),
            "plan": plan,
            "monthly_fee": fee,
            "started_at": pd.to_datetime(table["signup_date"]),
            "term_months": 12,
            "cancelled_at": pd.to_datetime(cancelled),
        }
    )


def market_rows(world: Population, day: int) -> pd.DataFrame:
    """The analytics feed's index of the week the day falls in, one row per region."""
    week = day // 7
    week_start = world.date(week * 7)
    return pd.DataFrame(
        {
            "geographic_region": list(catalog.REGIONS),
            "week_start": week_start,
            "volatility_index": np.round(world.volatility[:, week], 4),
        }
    )
