"""A small known-truth churn world for the churn tests, shaped like the feature-table contract.

Some clients start to disengage on a day of their own (their activity decays) and churn a few weeks
later; the rest churn rarely. Daily metrics are drawn from each client's activity, the sequence of a
snapshot is cut straight from the dense client × day array (independently of build_sequences), and
the activity features of feat_client_churn are computed from that sequence, so tabular and sequence
inputs tell the same story.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from roi_assets.churn.features import CHURN_FEATURES, DAILY_METRICS, PREDICTION_WINDOWS

START = np.datetime64("2024-01-01", "D")  # a Monday
FIRST_SNAPSHOT_DAY = 35
WINDOW = 30
COMPARED = 10
METRIC = {name: i for i, name in enumerate(DAILY_METRICS)}
ACTIVITY_METRICS = (
    "logins",
    "session_minutes",
    "document_views",
    "document_uploads",
    "feature_uses",
    "distinct_features_used",
)


@dataclass(frozen=True)
class ChurnWorld:
    daily: pd.DataFrame  # feat_client_daily (rows after a client churned are absent)
    churn: pd.DataFrame  # feat_client_churn with all three labels observed
    sequences: np.ndarray  # (len(churn), 30, 15), aligned with churn
    disengaging: np.ndarray  # per churn row: the client has a latent decline


def synthetic_churn_world(
    n_clients: int = 300, n_snapshots: int = 10, disengaging_share: float = 0.35, seed: int = 0
) -> ChurnWorld:
    rng = np.random.default_rng(seed)
    n_days = FIRST_SNAPSHOT_DAY + 7 * (n_snapshots - 1)
    days = np.arange(n_days)

    base = rng.lognormal(0.0, 0.4, n_clients)
    disengaging = rng.random(n_clients) < disengaging_share
    decline_start = rng.uniform(0, n_days + 60, n_clients)
    decay_days = rng.uniform(8, 20, n_clients)
    churn_day = np.where(
        disengaging,
        decline_start + 20 + rng.exponential(20, n_clients),
        rng.exponential(3000, n_clients),
    )
    declining = disengaging[:, None] & (days[None, :] >= decline_start[:, None])
    activity = base[:, None] * np.where(
        declining, np.exp(-(days[None, :] - decline_start[:, None]) / decay_days[:, None]), 1.0
    )
    dense = _daily_metrics(rng, activity, declining)
    dense[days[None, :] >= churn_day[:, None]] = 0.0

    client_ids = np.array([f"c{i:04d}" for i in range(n_clients)])
    alive = days[None, :] < churn_day[:, None]
    client_index, day_index = np.nonzero(alive)
    daily = pd.DataFrame(
        {
            "client_id": client_ids[client_index],
            "activity_date": START + day_index.astype("timedelta64[D]"),
            **{name: dense[client_index, day_index, i] for i, name in enumerate(DAILY_METRICS)},
        }
    )

    snapshot_days = FIRST_SNAPSHOT_DAY + 7 * np.arange(n_snapshots)
    client_grid, snapshot_grid = np.meshgrid(np.arange(n_clients), snapshot_days, indexing="ij")
    active = churn_day[client_grid] > snapshot_grid
    rows_client, rows_day = client_grid[active], snapshot_grid[active]
    window_days = rows_day[:, None] + np.arange(-WINDOW, 0)
    sequences = dense[rows_client[:, None], window_days].astype(np.float32)

    churn = pd.DataFrame(
        {
            "client_id": client_ids[rows_client],
            "snapshot_date": START + rows_day.astype("timedelta64[D]"),
        }
    )
    static = _static_features(rng, n_clients, disengaging)
    renewal_day = rng.uniform(0, 365, n_clients)
    for name, values in static.items():
        churn[name] = values[rows_client]
    churn["contract_renewal_proximity"] = np.floor((renewal_day[rows_client] - rows_day) % 365)
    churn["market_volatility_index"] = rng.uniform(0, 1, len(churn))
    churn["seasonal_churn_probability"] = 0.03 + 0.01 * np.sin(rows_day / 58.0)
    churn = with_activity_features(churn, sequences)
    for window in PREDICTION_WINDOWS:
        churned = (churn_day[rows_client] > rows_day) & (
            churn_day[rows_client] <= rows_day + window
        )
        churn[f"churned_within_{window}d"] = churned.astype(np.int64)
    ordered = ["client_id", "snapshot_date", *CHURN_FEATURES]
    churn = churn[ordered + [c for c in churn.columns if c not in ordered]]
    return ChurnWorld(daily, churn, sequences, disengaging[rows_client])


def with_activity_features(churn: pd.DataFrame, sequences: np.ndarray) -> pd.DataFrame:
    """A copy of `churn` whose sequence-derived features are recomputed from `sequences`."""

    def series(name: str) -> np.ndarray:
        return sequences[:, :, METRIC[name]].astype(np.float64)

    def earlier(name: str) -> np.ndarray:
        return series(name)[:, :COMPARED].mean(axis=1)

    def recent(name: str) -> np.ndarray:
        return series(name)[:, -COMPARED:].mean(axis=1)

    t = np.arange(WINDOW) - (WINDOW - 1) / 2
    logins = series("logins")
    tickets = series("support_tickets")
    last_login = np.where(
        logins.any(axis=1), WINDOW - 1 - np.argmax(logins[:, ::-1] > 0, axis=1), -1
    )
    out = churn.copy()
    out["login_frequency_slope_30d"] = (logins * t).sum(axis=1) / (t**2).sum()
    out["document_access_decline_rate"] = np.clip(
        1 - (recent("document_views") + 0.1) / (earlier("document_views") + 0.1), -1, 1
    )
    out["email_engagement_momentum"] = recent("emails_opened") - earlier("emails_opened")
    out["feature_usage_diversity_change"] = recent("distinct_features_used") - earlier(
        "distinct_features_used"
    )
    out["time_between_sessions_increase"] = (WINDOW - 1 - last_login) - WINDOW / (
        logins.sum(axis=1) + 1
    )
    out["support_ticket_sentiment_score"] = np.where(
        tickets.sum(axis=1) > 0,
        (series("support_sentiment") * tickets).sum(axis=1) / np.maximum(tickets.sum(axis=1), 1),
        0.0,
    )
    out["feature_request_count"] = series("feature_requests").sum(axis=1)
    out["help_article_access_frequency"] = series("help_article_views").sum(axis=1)
    out["competitor_email_opens"] = series("competitor_email_opens").sum(axis=1)
    out["price_comparison_searches"] = series("price_comparison_searches").sum(axis=1)
    out["unique_features_used"] = series("distinct_features_used").max(axis=1)
    out["data_volume_uploaded_gb"] = series("document_uploads").sum(axis=1) * 0.05
    return out


def collapse_activity(sequences: np.ndarray, last_days: int = 15) -> np.ndarray:
    """A copy where logins, sessions, document and feature use are zero in the last `last_days`."""
    collapsed = sequences.copy()
    for name in ACTIVITY_METRICS:
        collapsed[:, -last_days:, METRIC[name]] = 0.0
    return collapsed


def _daily_metrics(
    rng: np.random.Generator, activity: np.ndarray, declining: np.ndarray
) -> np.ndarray:
    shape = activity.shape
    unhappy = declining.astype(np.float64)
    logins = rng.poisson(activity)
    feature_uses = rng.poisson(1.5 * activity)
    tickets = rng.poisson(0.03 + 0.07 * unhappy)
    received = rng.poisson(1.0, shape)
    opened = rng.binomial(received, np.clip(0.15 + 0.15 * activity, 0, 0.9))
    metrics = {
        "logins": logins,
        "session_minutes": logins * rng.gamma(2.0, 8.0, shape),
        "document_views": rng.poisson(2.0 * activity),
        "document_uploads": rng.poisson(0.3 * activity),
        "feature_uses": feature_uses,
        "distinct_features_used": np.minimum(feature_uses, 1 + rng.poisson(1.0, shape)),
        "support_tickets": tickets,
        "support_sentiment": np.where(
            tickets > 0, np.clip(rng.normal(0.3 - 0.8 * unhappy, 0.3), -1, 1), 0.0
        ),
        "help_article_views": rng.poisson(0.2, shape),
        "feature_requests": rng.poisson(0.02, shape),
        "emails_received": received,
        "emails_opened": opened,
        "emails_clicked": rng.binomial(opened, 0.1),
        "competitor_email_opens": rng.poisson(0.02 + 0.08 * unhappy),
        "price_comparison_searches": rng.poisson(0.01 + 0.06 * unhappy),
    }
    return np.stack([metrics[name] for name in DAILY_METRICS], axis=-1).astype(np.float64)


def _static_features(
    rng: np.random.Generator, n_clients: int, disengaging: np.ndarray
) -> dict[str, np.ndarray]:
    answered = rng.random(n_clients) < 0.4
    nps = np.clip(np.round(rng.normal(8 - 3 * disengaging, 1.5)), 0, 10)
    return {
        "nps_score_if_available": np.where(answered, nps, -1.0),
        "feedback_form_completion": rng.uniform(0, 1, n_clients),
        "team_members_invited": rng.poisson(2, n_clients).astype(np.float64),
        "integration_count": rng.poisson(1, n_clients).astype(np.float64),
        "customization_level": rng.uniform(0, 1, n_clients),
    }
