"""Clients and their latent traits: who they are (observable) and how they behave (hidden)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from roi_assets.simulator import catalog
from roi_assets.simulator.behaviour import CHRONOTYPES
from roi_assets.simulator.scales import WorldConfig


@dataclass
class Clients:
    """Observable attributes (`table`, as the CRM exports them) and hidden traits (arrays)."""

    table: pd.DataFrame
    signup_day: np.ndarray  # day index relative to the world's start (negative: before it)
    region_index: np.ndarray
    chronotype: np.ndarray
    propensity: np.ndarray
    activity: np.ndarray
    satisfaction: np.ndarray
    competitor_interest: np.ndarray
    decline_onset_day: np.ndarray  # np.inf when the client never declines
    decline_time_constant: np.ndarray

    def __len__(self) -> int:
        return len(self.table)


def draw_clients(config: WorldConfig, rng: np.random.Generator) -> Clients:
    n = config.scale.n_clients
    n_days = config.scale.n_days
    ids = np.array([f"C{i:07d}" for i in range(n)])

    joined_before = rng.random(n) < 0.8
    signup_day = np.where(
        joined_before,
        -rng.integers(30, 1100, n),
        rng.integers(0, max(1, int(n_days * 0.6)), n),
    )
    client_type = rng.choice(catalog.CLIENT_TYPES, n, p=[0.5, 0.3, 0.2])
    bracket_index = rng.choice(4, n, p=[0.3, 0.4, 0.2, 0.1])
    bracket = np.array(catalog.PROPERTY_VALUE_BRACKETS)[bracket_index]
    stage = rng.choice(catalog.TRANSACTION_STAGES, n, p=[0.25, 0.3, 0.15, 0.1, 0.2])
    region_index = rng.choice(len(catalog.REGIONS), n, p=[0.2, 0.2, 0.18, 0.12, 0.1, 0.2])
    region = np.array(catalog.REGIONS)[region_index]
    communication = rng.choice(catalog.PREFERRED_COMMUNICATION, n, p=[0.5, 0.3, 0.2])
    age_group = rng.choice(catalog.AGE_GROUPS, n, p=[0.25, 0.3, 0.28, 0.17])
    tier_index = np.clip(bracket_index - 1 + rng.choice([0, 0, 1], n), 0, 2)
    tier = np.array(catalog.CLIENT_VALUE_TIERS)[tier_index]

    propensity = rng.normal(0.0, 1.0, n)
    propensity -= config.age_group_bias * (age_group == "65+")
    declines = rng.random(n) < 0.35
    decline_onset = np.where(declines, rng.uniform(-30, n_days + 90, n), np.inf)

    signup_dates = [config.start_date + dt.timedelta(days=int(d)) for d in signup_day]
    table = pd.DataFrame(
        {
            "client_id": ids,
            "signup_date": pd.to_datetime(signup_dates).date,
            "client_type": client_type,
            "property_value_bracket": bracket,
            "transaction_stage": stage,
            "geographic_region": region,
            "timezone": [catalog.REGION_TIME_ZONES[r] for r in region],
            "preferred_communication": communication,
            "age_group": age_group,
            "client_value_tier": tier,
            "email": [f"client{i}@example.com" for i in range(n)],
        }
    )
    return Clients(
        table=table,
        signup_day=signup_day.astype(np.int64),
        region_index=region_index,
        chronotype=rng.integers(0, len(CHRONOTYPES), n),
        propensity=propensity,
        activity=rng.lognormal(0.0, 0.5, n),
        satisfaction=rng.normal(0.0, 1.0, n),
        competitor_interest=rng.normal(0.0, 1.0, n),
        decline_onset_day=decline_onset,
        decline_time_constant=rng.uniform(20, 60, n),
    )


def utc_offset_hours(config: WorldConfig, n_days: int) -> np.ndarray:
    """(n_regions, n_days) UTC offset of each region's time zone at local noon, DST included."""
    offsets = np.zeros((len(catalog.REGIONS), n_days), dtype=np.int64)
    for r, region in enumerate(catalog.REGIONS):
        zone = ZoneInfo(catalog.REGION_TIME_ZONES[region])
        for d in range(n_days):
            day = config.start_date + dt.timedelta(days=d)
            noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=zone)
            offsets[r, d] = int(noon.utcoffset().total_seconds() // 3600)
    return offsets


def engagement_level(clients: Clients, days: np.ndarray) -> np.ndarray:
    """(n_clients, len(days)) multiplier of activity: 1 until a decline starts, then decays."""
    since = days[None, :] - clients.decline_onset_day[:, None]
    decay = np.exp(-np.clip(since, 0, None) / clients.decline_time_constant[:, None])
    return np.maximum(decay, 0.08)
