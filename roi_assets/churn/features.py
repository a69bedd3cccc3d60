"""The churn model's inputs: column names from the feature-table contract and their array forms.

The random forest reads the 20 tabular features of `features.feat_client_churn`; the LSTM reads,
for each (client_id, snapshot_date), the 30 days before the snapshot from
`features.feat_client_daily` (snapshot-30 .. snapshot-1, oldest first). Frames may be polars or
pandas; everything below turns them into numpy arrays once, so the models never care which.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

CHURN_FEATURES: tuple[str, ...] = (
    # activity trends
    "login_frequency_slope_30d",
    "document_access_decline_rate",
    "email_engagement_momentum",
    "feature_usage_diversity_change",
    "time_between_sessions_increase",
    # satisfaction signals
    "support_ticket_sentiment_score",
    "feature_request_count",
    "nps_score_if_available",
    "feedback_form_completion",
    "help_article_access_frequency",
    # market context
    "competitor_email_opens",
    "price_comparison_searches",
    "contract_renewal_proximity",
    "market_volatility_index",
    "seasonal_churn_probability",
    # engagement depth
    "unique_features_used",
    "data_volume_uploaded_gb",
    "team_members_invited",
    "integration_count",
    "customization_level",
)

DAILY_METRICS: tuple[str, ...] = (
    "logins",
    "session_minutes",
    "document_views",
    "document_uploads",
    "feature_uses",
    "distinct_features_used",
    "support_tickets",
    "support_sentiment",
    "help_article_views",
    "feature_requests",
    "emails_received",
    "emails_opened",
    "emails_clicked",
    "competitor_email_opens",
    "price_comparison_searches",
)

SEQUENCE_DAYS = 30
PREDICTION_WINDOWS: tuple[int, ...] = (30, 60, 90)


def label_column(window_days: int) -> str:
    """Name of the label column of feat_client_churn for a prediction window."""
    if window_days not in PREDICTION_WINDOWS:
        raise ValueError(f"window_days must be one of {PREDICTION_WINDOWS}, got {window_days}")
    return f"churned_within_{window_days}d"


def column(frame: Any, name: str) -> np.ndarray:
    """One column of a polars or pandas frame as a numpy array."""
    return frame[name].to_numpy()


def as_days(values: Any) -> np.ndarray:
    """Dates (date objects, datetime64, timestamps or ISO strings) as datetime64[D]."""
    return pd.to_datetime(np.asarray(values)).to_numpy().astype("datetime64[D]")


def tabular_matrix(tabular: Any) -> np.ndarray:
    """The (n, 20) float64 matrix of CHURN_FEATURES, in contract order.

    Accepts a polars or pandas frame holding at least those columns, or an array that already has
    them in order (what the models store internally).
    """
    if isinstance(tabular, np.ndarray):
        matrix = tabular.astype(np.float64, copy=False)
    else:
        missing = [name for name in CHURN_FEATURES if name not in tabular.columns]
        if missing:
            raise KeyError(f"tabular frame lacks churn features: {missing}")
        matrix = np.column_stack([column(tabular, name) for name in CHURN_FEATURES]).astype(
            np.float64
        )
    if matrix.ndim != 2 or matrix.shape[1] != len(CHURN_FEATURES):
        raise ValueError(f"expected (n, {len(CHURN_FEATURES)}) features, got {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError("churn features must be finite (the contract has no NULLs)")
    return matrix


def build_sequences(daily: Any, keys: Any) -> np.ndarray:
    """The (n, 30, 15) float32 LSTM input for each (client_id, snapshot_date) row of `keys`.

    Position k of a sequence is the day snapshot_date - 30 + k, so position 29 is the day before
    the snapshot; metrics follow DAILY_METRICS. Days absent from `daily` stay zero, which is what
    the dense feature table means by "no activity". Every (row, day) pair is found with one sorted
    search over integer (client, day) keys instead of a Python loop per row, so 100k rows take
    about a second.
    """
    missing = [
        name for name in ("client_id", "activity_date", *DAILY_METRICS) if name not in daily.columns
    ]
    if missing:
        raise KeyError(f"daily frame lacks columns: {missing}")
    daily_clients = column(daily, "client_id")
    key_clients = column(keys, "client_id")
    codes, _ = pd.factorize(np.concatenate([daily_clients, key_clients]))
    daily_codes, key_codes = codes[: len(daily_clients)], codes[len(daily_clients) :]

    daily_days = as_days(column(daily, "activity_date")).astype(np.int64)
    key_days = as_days(column(keys, "snapshot_date")).astype(np.int64)
    n_rows = len(key_clients)
    sequences = np.zeros((n_rows, SEQUENCE_DAYS, len(DAILY_METRICS)), dtype=np.float32)
    if n_rows == 0 or len(daily_days) == 0:
        return sequences

    # One int64 per (client, day): client code times a span wider than every day offset.
    first_day = min(daily_days.min(), key_days.min()) - SEQUENCE_DAYS
    span = max(daily_days.max(), key_days.max()) - first_day + 1
    daily_key = daily_codes.astype(np.int64) * span + (daily_days - first_day)
    order = np.argsort(daily_key, kind="stable")
    sorted_key = daily_key[order]

    offsets = np.arange(-SEQUENCE_DAYS, 0, dtype=np.int64)
    wanted = (key_codes.astype(np.int64) * span + (key_days - first_day))[:, None] + offsets
    position = np.searchsorted(sorted_key, wanted).clip(max=len(sorted_key) - 1)
    found = sorted_key[position] == wanted

    values = np.column_stack([column(daily, name) for name in DAILY_METRICS]).astype(np.float32)
    sequences[found] = values[order[position[found]]]
    return sequences
