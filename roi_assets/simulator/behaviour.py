"""The true behavioural model the world is drawn from.

Everything a model could learn is defined here once, so the truth tables (the oracle) and the
sampled landing data come from the same formulas. Effects are in logit space for opens/clicks and
log space for churn hazards. The hour-of-week effect is a shared population curve in the client's
local time plus a bump at the client's own preferred window (their chronotype), which is what the
send-time optimizer can personalise on.
"""

from __future__ import annotations

import numpy as np

HOURS_PER_WEEK = 168
# Chronotypes: (name, weekdays only?, local hours of the preferred window)
CHRONOTYPES = (
    ("early_bird", True, (6, 7, 8)),
    ("office", True, (10, 11, 12, 13)),
    ("evening", False, (18, 19, 20)),
    ("weekend", None, (9, 10, 11)),  # None: Saturday and Sunday only
    ("night_owl", False, (21, 22, 23)),
)
CHRONOTYPE_BUMP = 0.9

OPEN_INTERCEPT = -1.1
CLICK_INTERCEPT = -2.35
DAILY_HAZARD_BASE = 0.00045


def population_hour_effect(hour_shift: int = 0) -> np.ndarray:
    """Logit effect of each local hour of the week (0 = Monday 00:00), shared by every client."""
    hours = (np.arange(HOURS_PER_WEEK) - hour_shift) % HOURS_PER_WEEK
    hour_of_day = hours % 24
    day = hours // 24
    effect = np.full(HOURS_PER_WEEK, -0.1)
    effect[(hour_of_day >= 0) & (hour_of_day < 6)] = -1.0
    effect[(hour_of_day >= 7) & (hour_of_day < 10)] = 0.35
    effect[(hour_of_day >= 11) & (hour_of_day < 14)] = 0.15
    effect[(hour_of_day >= 17) & (hour_of_day < 21)] = 0.25
    effect[day >= 5] -= 0.3
    return effect


def chronotype_hour_effect() -> np.ndarray:
    """(n_chronotypes, 168) logit bump of each chronotype's preferred window."""
    bumps = np.zeros((len(CHRONOTYPES), HOURS_PER_WEEK))
    for k, (_, weekdays, hours) in enumerate(CHRONOTYPES):
        for how in range(HOURS_PER_WEEK):
            day, hod = divmod(how, 24)
            on_day = day >= 5 if weekdays is None else (day < 5 if weekdays else True)
            if on_day and hod in hours:
                bumps[k, how] = CHRONOTYPE_BUMP
    return bumps


def hour_effect_matrix(chronotype: np.ndarray, hour_shift: int = 0) -> np.ndarray:
    """(n_clients, 168) total hour-of-week logit effect for each client."""
    return population_hour_effect(hour_shift)[None, :] + chronotype_hour_effect()[chronotype]


def content_logit(
    subject_length: np.ndarray,
    personalization: np.ndarray,
    urgency: np.ndarray,
    value_proposition: np.ndarray,
    cta_count: np.ndarray,
    image_count: np.ndarray,
) -> np.ndarray:
    """Logit effect of an email's content attributes on opening it."""
    return (
        -0.012 * (subject_length - 45.0)
        + 0.9 * (personalization - 0.5)
        + 0.25 * urgency
        + 0.6 * (value_proposition - 0.4)
        - 0.08 * np.abs(cta_count - 2)
        + 0.03 * np.minimum(image_count, 4)
    )


def open_logit(
    propensity: np.ndarray,
    hour_effect: np.ndarray,
    engagement_level: np.ndarray,
    days_since_login: np.ndarray,
    content: np.ndarray,
    subject_taste: np.ndarray,
    is_holiday: np.ndarray,
) -> np.ndarray:
    """Logit of the probability that a send is opened within 7 days."""
    return (
        OPEN_INTERCEPT
        + 0.85 * propensity
        + hour_effect
        + 1.0 * (engagement_level - 1.0)
        - 0.3 * np.log1p(np.minimum(days_since_login, 60.0))
        + content
        + subject_taste
        - 0.45 * is_holiday
    )


def click_given_open_logit(
    propensity: np.ndarray,
    template_taste: np.ndarray,
    cta_taste: np.ndarray,
    value_proposition: np.ndarray,
    cta_count: np.ndarray,
) -> np.ndarray:
    """Logit of clicking, given the email was opened."""
    return (
        CLICK_INTERCEPT
        + 0.4 * propensity
        + template_taste
        + cta_taste
        + 0.8 * (value_proposition - 0.4)
        + 0.25 * (cta_count > 0)
    )


def daily_churn_hazard(
    engagement_level: np.ndarray,
    satisfaction: np.ndarray,
    competitor_interest: np.ndarray,
    renewal_soon: np.ndarray,
    market_volatility: np.ndarray,
    seasonal_factor: np.ndarray,
) -> np.ndarray:
    """Daily churn hazard: rises with activity decline, poor satisfaction and renewal proximity."""
    log_hazard = (
        2.6 * (1.0 - engagement_level)
        - 0.55 * satisfaction
        + 0.35 * competitor_interest
        + 1.3 * renewal_soon
        + 0.25 * market_volatility
    )
    return DAILY_HAZARD_BASE * seasonal_factor * np.exp(log_hazard)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
