"""Email sends and their outcomes (opens, clicks, actions), drawn from the true model."""

from __future__ import annotations

from dataclasses import dataclass

import holidays
import numpy as np
import pandas as pd

from roi_assets.simulator import catalog
from roi_assets.simulator.activity import Activity
from roi_assets.simulator.behaviour import (
    click_given_open_logit,
    content_logit,
    hour_effect_matrix,
    open_logit,
    sigmoid,
)
from roi_assets.simulator.clients import Clients
from roi_assets.simulator.scales import WorldConfig

# The logging policy sends mostly in business hours but covers every hour, so hour effects and
# off-policy replay are identifiable from the logs.
BUSINESS_HOURS = np.array([0, 0, 0, 0, 0, 0, 1, 3, 5, 6, 6, 5, 4, 5, 5, 5, 4, 4, 4, 3, 2, 1, 0, 0])
UNIFORM_SHARE = 0.3
LABEL_WINDOW_HOURS = 7 * 24


@dataclass(frozen=True)
class ContentTaste:
    """Per family, a (n_segments, n_variants) logit effect: how each segment likes each variant."""

    subject_line: np.ndarray
    email_template: np.ndarray
    cta_style: np.ndarray


def draw_content_taste(rng: np.random.Generator) -> ContentTaste:
    shape = (len(catalog.SEGMENTS), 5)
    return ContentTaste(
        subject_line=rng.normal(0, 0.25, shape),
        email_template=rng.normal(0, 0.35, shape),
        cta_style=rng.normal(0, 0.35, shape),
    )


def us_holiday_days(config: WorldConfig) -> np.ndarray:
    """Day indices of US federal holidays inside the world."""
    us = holidays.country_holidays(
        "US", years=range(config.start_date.year, config.end_date.year + 1)
    )
    start = np.datetime64(config.start_date, "D")
    days = [(np.datetime64(d, "D") - start).astype(int) for d in us]
    return np.array([d for d in days if 0 <= d < config.scale.n_days], dtype=np.int64)


@dataclass
class Sends:
    table: pd.DataFrame  # raw.email_sends rows (plus client_idx for internal joins)
    outcomes: pd.DataFrame  # open/click/action events
    p_open: np.ndarray
    p_click: np.ndarray
    # (n_families, n_segments, n_variants) sums of true CTR with that variant substituted,
    # and sends per segment: their ratio is the true CTR of each segment × variant.
    ctr_sums: np.ndarray
    segment_counts: np.ndarray


def simulate_sends(
    clients: Clients,
    activity: Activity,
    config: WorldConfig,
    taste: ContentTaste,
    utc_offsets: np.ndarray,
    holiday_days: np.ndarray,
    id_offset: int,
    rng: np.random.Generator,
) -> Sends:
    rate = config.scale.sends_per_week / 7.0
    counts = rng.poisson(np.where(activity.alive, rate, 0.0))
    client_idx, day = _expand(counts)
    m = len(client_idx)

    business = BUSINESS_HOURS / BUSINESS_HOURS.sum()
    local_hour = np.where(
        rng.random(m) < UNIFORM_SHARE, rng.integers(0, 24, m), rng.choice(24, m, p=business)
    )
    minute = rng.integers(0, 60, m)
    offset = utc_offsets[clients.region_index[client_idx], day]
    sent_at = np.datetime64(config.start_date, "m") + (
        day * 1440 + local_hour * 60 + minute - offset * 60
    ).astype("timedelta64[m]")
    hour_of_week = (day % 7) * 24 + local_hour

    drifted = np.zeros(m, dtype=bool) if config.drift is None else day >= config.drift.start_day
    subject_length = np.clip(np.round(rng.normal(45, 15, m)), 10, 120)
    personalization = rng.beta(2, 2, m)
    if config.drift is not None:
        subject_length = np.clip(
            subject_length + drifted * config.drift.subject_length_shift, 10, 160
        )
        personalization = np.clip(
            personalization + drifted * config.drift.personalization_shift, 0, 1
        )
    urgency = (rng.random(m) < 0.2).astype(int)
    value_proposition = rng.beta(2, 3, m)
    cta_count = np.clip(rng.poisson(1.5, m), 0, 5)
    image_count = np.clip(rng.poisson(2.0, m), 0, 8)
    variants = {family: rng.integers(0, 5, m) for family in catalog.CONTENT_VARIANTS}
    segment = _segment_index(clients)[client_idx]

    hour_effect = _hour_effect_per_send(clients, client_idx, hour_of_week, drifted, config)
    since_login = _days_since_login(activity.login_counts, client_idx, day)
    content = content_logit(
        subject_length, personalization, urgency, value_proposition, cta_count, image_count
    )
    level = activity.engagement[client_idx, day]
    is_holiday = np.isin(day, holiday_days).astype(float)
    p_open, p_click_given_open = true_probabilities(
        clients.propensity[client_idx],
        hour_effect,
        level,
        since_login,
        content,
        taste,
        segment,
        variants,
        value_proposition,
        cta_count,
        is_holiday,
    )
    ctr_sums = np.zeros((len(variants), len(catalog.SEGMENTS), 5))
    for f, family in enumerate(variants):
        for v in range(5):
            substituted = {**variants, family: np.full(m, v)}
            p_o, p_c = true_probabilities(
                clients.propensity[client_idx],
                hour_effect,
                level,
                since_login,
                content,
                taste,
                segment,
                substituted,
                value_proposition,
                cta_count,
                is_holiday,
            )
            ctr_sums[f, :, v] = np.bincount(segment, p_o * p_c, minlength=len(catalog.SEGMENTS))
    segment_counts = np.bincount(segment, minlength=len(catalog.SEGMENTS))
    opened = rng.random(m) < p_open
    clicked = opened & (rng.random(m) < p_click_given_open)
    acted = clicked & (rng.random(m) < 0.3)

    send_ids = np.array([f"E{id_offset + i:09d}" for i in range(m)])
    table = pd.DataFrame(
        {
            "send_id": send_ids,
            "client_idx": client_idx,
            "client_id": clients.table["client_id"].to_numpy()[client_idx],
            "campaign_id": np.array([f"CMP{d // 7:03d}" for d in day]),
            "sent_at": sent_at.astype("datetime64[us]"),
            "subject_length": subject_length.astype(int),
            "personalization_score": np.round(personalization, 4),
            "urgency_indicators": urgency.astype(bool),
            "value_proposition_strength": np.round(value_proposition, 4),
            "call_to_action_count": cta_count.astype(int),
            "image_count": image_count.astype(int),
            **{
                catalog.VARIANT_COLUMNS[family]: np.array(values)[variants[family]]
                for family, values in catalog.CONTENT_VARIANTS.items()
            },
        }
    )
    outcomes = _outcome_events(table, opened, clicked, acted, rng)
    return Sends(table, outcomes, p_open, p_open * p_click_given_open, ctr_sums, segment_counts)


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(client, day) pairs repeated by their count."""
    client_idx, day = np.nonzero(counts)
    repeats = counts[client_idx, day]
    return np.repeat(client_idx, repeats), np.repeat(day, repeats)


def _segment_index(clients: Clients) -> np.ndarray:
    lookup = {segment: i for i, segment in enumerate(catalog.SEGMENTS)}
    table = clients.table
    return np.array(
        [
            lookup[catalog.segment_of(t, b)]
            for t, b in zip(table["client_type"], table["property_value_bracket"], strict=True)
        ]
    )


def _hour_effect_per_send(
    clients: Clients,
    client_idx: np.ndarray,
    hour_of_week: np.ndarray,
    drifted: np.ndarray,
    config: WorldConfig,
) -> np.ndarray:
    before = hour_effect_matrix(clients.chronotype)[client_idx, hour_of_week]
    if config.drift is None:
        return before
    after = hour_effect_matrix(clients.chronotype, config.drift.hour_shift)[
        client_idx, hour_of_week
    ]
    return np.where(drifted, after, before)


def _days_since_login(
    login_counts: np.ndarray, client_idx: np.ndarray, day: np.ndarray
) -> np.ndarray:
    """Days since the client's last login strictly before the send's day (60 when none)."""
    n_days = login_counts.shape[1]
    index = np.where(login_counts > 0, np.arange(n_days)[None, :], -10_000)
    last = np.maximum.accumulate(index, axis=1)
    last_before = np.concatenate([np.full((len(last), 1), -10_000), last[:, :-1]], axis=1)
    gap = day - last_before[client_idx, day]
    return np.minimum(gap, 60).astype(float)


def true_probabilities(
    propensity: np.ndarray,
    hour_effect: np.ndarray,
    engagement_level: np.ndarray,
    days_since_login: np.ndarray,
    content: np.ndarray,
    taste: ContentTaste,
    segment: np.ndarray,
    variants: dict[str, np.ndarray],
    value_proposition: np.ndarray,
    cta_count: np.ndarray,
    is_holiday: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """True P(open within 7 days) and P(click | open) of each send."""
    p_open = sigmoid(
        open_logit(
            propensity,
            hour_effect,
            engagement_level,
            days_since_login,
            content,
            taste.subject_line[segment, variants["subject_line"]],
            is_holiday,
        )
    )
    p_click_given_open = sigmoid(
        click_given_open_logit(
            propensity,
            taste.email_template[segment, variants["email_template"]],
            taste.cta_style[segment, variants["cta_style"]],
            value_proposition,
            cta_count,
        )
    )
    return p_open, p_click_given_open


def _outcome_events(
    sends: pd.DataFrame,
    opened: np.ndarray,
    clicked: np.ndarray,
    acted: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Webhook events: open within 7 days, click minutes after, action after the click."""
    m = len(sends)
    open_delay = np.minimum(rng.lognormal(1.2, 1.3, m), LABEL_WINDOW_HOURS - 1)
    click_delay = open_delay + rng.exponential(0.1, m)
    action_delay = click_delay + rng.exponential(2.0, m)
    frames = []
    for event_type, happened, delay in (
        ("open", opened, open_delay),
        ("click", clicked, click_delay),
        ("action", acted, action_delay),
    ):
        rows = sends.loc[happened, ["send_id", "client_id", "sent_at"]]
        occurred = rows["sent_at"] + pd.to_timedelta(np.round(delay[happened] * 3600), unit="s")
        frames.append(
            pd.DataFrame(
                {
                    "send_id": rows["send_id"].to_numpy(),
                    "client_id": rows["client_id"].to_numpy(),
                    "event_type": event_type,
                    "occurred_at": occurred.to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values("occurred_at", kind="stable")
