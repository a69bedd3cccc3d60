"""What the engagement scores are computed on: each active client at the next default send slot.

The default slot is Tuesday 10:00 in the client's local time, the platform's standard campaign
slot. A client's history features are those of their latest send (the freshest point-in-time row
the warehouse has); content features are the typical email's (the median of recent sends).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

DEFAULT_SLOT_DAY_OF_WEEK = 1  # Tuesday
DEFAULT_SLOT_HOUR = 10
CONTENT_COLUMNS = (
    "subject_length",
    "personalization_score",
    "value_proposition_strength",
    "call_to_action_count",
    "image_count",
)


def next_default_slot(after: dt.date) -> dt.date:
    """The first default-slot day strictly after `after`."""
    days_ahead = (DEFAULT_SLOT_DAY_OF_WEEK - after.weekday() - 1) % 7 + 1
    return after + dt.timedelta(days=days_ahead)


def default_slot_rows(features: pl.DataFrame, active_client_ids: pl.Series) -> pl.DataFrame:
    """One feature row per active client with history, moved to the next default slot."""
    latest = (
        features.filter(pl.col("client_id").is_in(active_client_ids.implode()))
        .sort("sent_at")
        .group_by("client_id")
        .last()
    )
    slot = next_default_slot(features["sent_at"].max().date())
    typical = (
        features.sort("sent_at")
        .tail(max(1, len(features) // 10))
        .select(pl.col(c).median().alias(c) for c in CONTENT_COLUMNS)
    )
    return latest.with_columns(
        pl.lit(DEFAULT_SLOT_HOUR).alias("hour_of_day"),
        pl.lit(DEFAULT_SLOT_DAY_OF_WEEK).alias("day_of_week"),
        pl.lit(slot.day).alias("day_of_month"),
        pl.lit(False).alias("is_weekend"),
        pl.lit(False).alias("is_holiday"),
        pl.lit(DEFAULT_SLOT_DAY_OF_WEEK * 24 + DEFAULT_SLOT_HOUR).alias("hour_of_week"),
        pl.lit(False).alias("urgency_indicators"),
        *(pl.lit(typical[c].item()).cast(latest.schema[c]).alias(c) for c in CONTENT_COLUMNS),
    ).sort("client_id")
