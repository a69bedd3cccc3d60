"""Email sends shaped like `features.feat_email_engagement`, with known open probabilities.

Each send's open probability depends on a few features (the client's recent open rate, how
personalised the email is, a morning hour, the weekend, the transaction stage), so a model can
learn it and the true probability is the oracle. Clicks happen only after opens, actions only after
clicks (more often when the email's value proposition is strong). Sends of the last
7 days are not label-complete and carry deliberately wrong labels, so a model that trained on
them would be noticed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from roi_assets.engagement.features import CATEGORIES

START = datetime(2024, 1, 1)
AGE_GROUPS = ("18-34", "35-49", "50-64", "65+")
VALUE_TIERS = ("standard", "premium", "enterprise")


@dataclass(frozen=True)
class EngagementWorld:
    frame: pl.DataFrame
    open_probability: np.ndarray  # the truth behind opened_within_7d, aligned with frame rows


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def synthetic_engagement_world(
    n_rows: int = 4000, n_days: int = 120, seed: int = 0
) -> EngagementWorld:
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.uniform(0, n_days * 86_400, n_rows))
    sent_at = [START + timedelta(seconds=float(s)) for s in offsets]
    hour = np.array([t.hour for t in sent_at])
    weekday = np.array([t.weekday() for t in sent_at])

    propensity = rng.normal(size=n_rows)
    lifetime_open_rate = np.clip(_sigmoid(propensity - 1.0) + rng.normal(0, 0.05, n_rows), 0, 1)
    recent_30d = np.clip(lifetime_open_rate + rng.normal(0, 0.08, n_rows), 0, 1)
    categorical = {name: rng.choice(values, n_rows) for name, values in CATEGORIES.items()}
    personalization = rng.uniform(size=n_rows)
    days_since_last_open = np.minimum(rng.exponential(20, n_rows), 365.0)

    open_logit = (
        -1.4
        + 3.0 * (recent_30d - 0.3)
        + 1.2 * (personalization - 0.5)
        + 0.7 * ((hour >= 8) & (hour <= 11))
        - 0.5 * (weekday >= 5)
        + 0.6 * np.isin(categorical["transaction_stage"], ("under_contract", "closing"))
        - 0.01 * days_since_last_open
    )
    open_probability = _sigmoid(open_logit)
    opened = rng.random(n_rows) < open_probability
    clicked = opened & (rng.random(n_rows) < _sigmoid(-1.8 + 1.5 * personalization))
    label_complete = offsets <= (n_days - 7) * 86_400
    # Labels of incomplete rows are still unknown; make them misleading on purpose.
    opened = np.where(label_complete, opened, ~opened)

    frame = pl.DataFrame(
        {
            "send_id": [f"s{i:06d}" for i in range(n_rows)],
            "client_id": [f"c{i:04d}" for i in rng.integers(0, n_rows // 5, n_rows)],
            "sent_at": sent_at,
            "hour_of_day": hour,
            "day_of_week": weekday,
            "day_of_month": np.array([t.day for t in sent_at]),
            "is_weekend": weekday >= 5,
            "is_holiday": rng.random(n_rows) < 0.03,
            "days_since_last_open": days_since_last_open,
            "days_since_last_click": np.minimum(rng.exponential(60, n_rows), 365.0),
            "lifetime_open_rate": lifetime_open_rate,
            "recent_open_rate_7d": np.clip(recent_30d + rng.normal(0, 0.15, n_rows), 0, 1),
            "recent_open_rate_30d": recent_30d,
            "click_through_rate": lifetime_open_rate * rng.uniform(0.05, 0.2, n_rows),
            "avg_time_to_open_hours": rng.lognormal(2.0, 0.8, n_rows),
            "email_frequency_score": rng.uniform(size=n_rows),
            "account_age_days": rng.uniform(1, 2000, n_rows),
            "property_value_bracket": categorical["property_value_bracket"],
            "transaction_stage": categorical["transaction_stage"],
            "client_type": categorical["client_type"],
            "geographic_region": categorical["geographic_region"],
            "preferred_communication": categorical["preferred_communication"],
            "subject_length": rng.integers(20, 90, n_rows),
            "personalization_score": personalization,
            "urgency_indicators": rng.random(n_rows) < 0.2,
            "value_proposition_strength": rng.uniform(size=n_rows),
            "call_to_action_count": rng.integers(0, 5, n_rows),
            "image_count": rng.integers(0, 7, n_rows),
            "login_frequency_weekly": rng.gamma(2.0, 1.5, n_rows),
            "document_access_rate": rng.uniform(size=n_rows),
            "feature_adoption_score": rng.uniform(size=n_rows),
            "support_ticket_count": rng.poisson(0.5, n_rows),
            "referral_generated": rng.random(n_rows) < 0.05,
            "hour_of_week": weekday * 24 + hour,
            "segment": [
                f"{client_type}_{bracket}"
                for client_type, bracket in zip(
                    categorical["client_type"], categorical["property_value_bracket"], strict=True
                )
            ],
            "subject_line_variant": categorical["subject_line_variant"],
            "email_template": categorical["email_template"],
            "cta_style": categorical["cta_style"],
            "age_group": rng.choice(AGE_GROUPS, n_rows),
            "client_value_tier": rng.choice(VALUE_TIERS, n_rows),
            "opened_within_7d": opened.astype(np.int32),
            "clicked_within_7d": clicked.astype(np.int32),
            "label_complete": label_complete,
        }
    )
    # drawn last, so the other columns stay what they were before actions were modelled
    value_proposition = frame["value_proposition_strength"].to_numpy()
    acted = clicked & (rng.random(n_rows) < _sigmoid(-1.0 + 2.5 * value_proposition))
    frame = frame.with_columns(
        pl.Series("acted_within_7d", acted.astype(np.int32)).alias("acted_within_7d")
    )
    return EngagementWorld(frame=frame, open_probability=open_probability)
