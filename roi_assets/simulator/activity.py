"""Platform activity, subscriptions and churn, drawn day by day from each client's latent state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from roi_assets.simulator import catalog
from roi_assets.simulator.behaviour import daily_churn_hazard
from roi_assets.simulator.clients import Clients, engagement_level
from roi_assets.simulator.scales import WorldConfig

HAZARD_HORIZON_DAYS = 90  # hazards are drawn past the world's end so 90-day truths exist
RENEWAL_WINDOW_DAYS = 30
TERM_DAYS = 365


@dataclass
class Activity:
    """Daily state of a chunk of clients: what the sends and the truth tables need."""

    alive: np.ndarray  # (n, n_days) bool: signed up and not yet churned
    engagement: np.ndarray  # (n, n_days + horizon) engagement multiplier
    cumulative_hazard: np.ndarray  # (n, n_days + horizon)
    churn_day: np.ndarray  # float, np.inf when not churned inside the world
    login_counts: np.ndarray  # (n, n_days)
    events: pd.DataFrame


def market_volatility(config: WorldConfig, rng: np.random.Generator) -> np.ndarray:
    """(n_regions, n_weeks) standardised volatility index: a mean-reverting random walk."""
    n_weeks = (config.scale.n_days + HAZARD_HORIZON_DAYS) // 7 + 1
    walk = np.zeros((len(catalog.REGIONS), n_weeks))
    for w in range(1, n_weeks):
        walk[:, w] = 0.8 * walk[:, w - 1] + rng.normal(0, 0.6, len(catalog.REGIONS))
    return walk


def days_to_renewal(signup_day: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Days from each day until the client's next contract anniversary (0 on the day itself)."""
    return (signup_day[:, None] - days[None, :]) % TERM_DAYS


def simulate_activity(
    clients: Clients,
    config: WorldConfig,
    volatility: np.ndarray,
    utc_offsets: np.ndarray,
    rng: np.random.Generator,
) -> Activity:
    n, n_days = len(clients), config.scale.n_days
    days = np.arange(n_days + HAZARD_HORIZON_DAYS)
    level = engagement_level(clients, days)
    renewal_soon = (days_to_renewal(clients.signup_day, days) <= RENEWAL_WINDOW_DAYS).astype(float)
    month = np.array([(config.start_date + dt.timedelta(days=int(d))).month for d in days])
    seasonal = 1.0 + 0.3 * np.cos(2 * np.pi * (month - 1) / 12.0)
    hazard = daily_churn_hazard(
        level,
        clients.satisfaction[:, None],
        clients.competitor_interest[:, None],
        renewal_soon,
        volatility[clients.region_index][:, days // 7],
        seasonal[None, :],
    )
    started = days[None, :] >= np.maximum(clients.signup_day, 0)[:, None]
    hazard = np.where(started, hazard, 0.0)
    cumulative = np.cumsum(hazard, axis=1)
    threshold = rng.exponential(1.0, n)
    crossed = cumulative >= threshold[:, None]
    churn_day = np.where(crossed.any(axis=1), crossed.argmax(axis=1), np.inf).astype(float)
    churn_day[churn_day >= n_days] = np.inf

    world_days = days[:n_days]
    alive = started[:, :n_days] & (world_days[None, :] < churn_day[:, None])
    events, logins = _draw_events(
        clients, config, level[:, :n_days], renewal_soon[:, :n_days], alive, utc_offsets, rng
    )
    return Activity(alive, level, cumulative, churn_day, logins, events)


def _draw_events(
    clients: Clients,
    config: WorldConfig,
    level: np.ndarray,
    renewal_soon: np.ndarray,
    alive: np.ndarray,
    utc_offsets: np.ndarray,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, np.ndarray]:
    n_days = config.scale.n_days
    weekday = (np.arange(n_days) % 7)[None, :]  # the world starts on a Monday
    weekly = np.where(weekday >= 5, 0.4, 1.0)
    a = clients.activity[:, None] * config.scale.activity_scale
    s = clients.satisfaction[:, None]
    c = clients.competitor_interest[:, None]
    login_factor = np.ones((1, n_days))
    if config.drift is not None:
        login_factor[:, config.drift.start_day :] = config.drift.login_rate_factor
    busy = a * level * weekly
    searching = (
        config.scale.activity_scale * np.exp(0.8 * c) * (1 + 1.5 * renewal_soon) * (2 - level)
    )
    rates = {
        "login": 0.45 * busy * login_factor,
        "document_view": 0.7 * busy,
        "document_upload": 0.12 * busy,
        "feature_use": 0.5 * busy,
        "support_ticket": 0.012
        * config.scale.activity_scale
        * np.exp(-0.5 * s)
        * np.ones_like(level),
        "help_article_view": 0.03 * config.scale.activity_scale * np.exp(-0.4 * s) * np.sqrt(level),
        "feature_request": 0.006 * a * np.ones_like(level),
        "nps_response": 0.004 * config.scale.activity_scale * np.ones_like(level),
        "feedback_form": 0.005 * config.scale.activity_scale * np.ones_like(level),
        "referral": 0.0015 * config.scale.activity_scale * np.exp(0.6 * s) * level,
        "team_invite": 0.003 * a * level,
        "integration_connected": 0.0015 * a * np.ones_like(level),
        "competitor_email_open": 0.015 * searching,
        "price_comparison_search": 0.008 * searching,
    }
    frames = []
    login_counts = np.zeros(level.shape, dtype=np.int32)
    favourite = rng.integers(0, len(catalog.PLATFORM_FEATURES), len(clients))
    focus = rng.uniform(0.25, 0.7, len(clients))
    for event_type, rate in rates.items():
        counts = rng.poisson(np.where(alive, rate, 0.0)).astype(np.int32)
        if event_type == "login":
            login_counts = counts
        client_idx, day = np.nonzero(counts)
        repeats = counts[client_idx, day]
        client_idx = np.repeat(client_idx, repeats)
        day = np.repeat(day, repeats)
        m = len(client_idx)
        if m == 0:
            continue
        local_minutes = rng.integers(7 * 60, 23 * 60, m)
        offset = utc_offsets[clients.region_index[client_idx], day]
        occurred = np.datetime64(config.start_date, "m") + (
            day * 1440 + local_minutes - offset * 60
        ).astype("timedelta64[m]")
        frame = pd.DataFrame(
            {
                "client_idx": client_idx,
                "event_type": event_type,
                "occurred_at": occurred.astype("datetime64[us]"),
                "feature_name": None,
                "sentiment": np.nan,
                "nps_score": np.nan,
                "size_mb": np.nan,
                "duration_minutes": np.nan,
            }
        )
        if event_type == "login":
            frame["duration_minutes"] = np.round(rng.gamma(2.0, 6.0, m), 1)
        elif event_type == "document_upload":
            frame["size_mb"] = np.round(rng.lognormal(1.0, 1.0, m), 2)
        elif event_type == "feature_use":
            step = rng.geometric(focus[client_idx]) - 1
            index = (favourite[client_idx] + step) % len(catalog.PLATFORM_FEATURES)
            frame["feature_name"] = np.array(catalog.PLATFORM_FEATURES)[index]
        elif event_type == "support_ticket":
            mood = (
                0.35 * clients.satisfaction[client_idx] - 0.1 + 0.4 * (level[client_idx, day] - 1)
            )
            frame["sentiment"] = np.round(np.clip(rng.normal(mood, 0.35), -1, 1), 3)
        elif event_type == "nps_response":
            score = 7 + 1.8 * clients.satisfaction[client_idx] + 2 * (level[client_idx, day] - 1)
            frame["nps_score"] = np.clip(np.round(score + rng.normal(0, 1.2, m)), 0, 10)
        frames.append(frame)
    events = pd.concat(frames, ignore_index=True).sort_values("occurred_at", kind="stable")
    return events.reset_index(drop=True), login_counts


def subscriptions_table(clients: Clients, activity: Activity, config: WorldConfig) -> pd.DataFrame:
    """The billing system's export: one subscription per client, cancelled when it churned."""
    start = np.datetime64(config.start_date, "D")
    cancelled = np.where(
        np.isfinite(activity.churn_day),
        start + np.nan_to_num(activity.churn_day, posinf=0).astype("timedelta64[D]"),
        np.datetime64("NaT"),
    )
    tier = clients.table["client_value_tier"].to_numpy()
    plan = np.select([tier == "enterprise", tier == "premium"], ["team", "pro"], "basic")
    fee = np.select([plan == "team", plan == "pro"], [249.0, 99.0], 39.0)
    return pd.DataFrame(
        {
            "subscription_id": [f"S{cid[1:]}" for cid in clients.table["client_id"]],
            "client_id": clients.table["client_id"].to_numpy(),
            "plan": plan,
            "monthly_fee": fee,
            "started_at": pd.to_datetime(clients.table["signup_date"]),
            "term_months": 12,
            "cancelled_at": pd.to_datetime(cancelled),
        }
    )
