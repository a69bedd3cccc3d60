"""The true behavioural model the world is drawn from.

Everything a model could learn is defined here once, so the truth tables (the oracle) and the
sampled landing data come from the same formulas. Effects are in logit space for opens/clicks and
log space for churn hazards. The hour-of-week effect is a shared population curve in the client's
local time plus a bump at the client's own preferred window (their chronotype), which is what the
send-time optimizer can personalise on.

The same window is when the client is around: platform sessions (logins, document views and
uploads, feature use) cluster in it, and an email is opened the next time the client checks, so
opens cluster there too (`activity_hour_density`). How strongly a client keeps to its window
varies (`habit`), and everyone is also active now and then across the waking day; what a platform
observes therefore reveals a client's hours with noise, as real behaviour does.

Fatigue: each email left unopened in a row lowers the next one's open logit (capped), so a send
opened at a good hour also makes the client's next email likelier to be opened.
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
WEEKEND_CHRONOTYPE = 3
# Waking hours (local) of the background activity everyone has, whatever their window.
WAKING_HOURS = (7, 23)
# Relative volume of a day's platform activity: most clients use the platform on weekdays, the
# weekend chronotype mostly at weekends.
WEEKEND_VOLUME = 0.4
WEEKEND_CHRONOTYPE_WEEKDAY_VOLUME = 0.7
NIGHT_CHECKING = 0.05  # how often, relative to a waking hour, a client checks email at night
OPEN_PROMPTNESS_HOURS = 12.0  # an open's delay decays with this time constant, active hours aside
FATIGUE_PER_UNOPENED = 0.06
FATIGUE_CAP = 5

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


def chronotype_windows() -> tuple[np.ndarray, np.ndarray]:
    """(n_chronotypes, 7) first local hour and length (0: none) of each type's window per day."""
    start = np.zeros((len(CHRONOTYPES), 7), dtype=np.int64)
    length = np.zeros((len(CHRONOTYPES), 7), dtype=np.int64)
    for k, (_, weekdays, hours) in enumerate(CHRONOTYPES):
        for day in range(7):
            on_day = day >= 5 if weekdays is None else (day < 5 if weekdays else True)
            if on_day:
                start[k, day], length[k, day] = hours[0], len(hours)
    return start, length


def day_volume(chronotype: np.ndarray, weekday: int) -> np.ndarray:
    """Relative platform activity of each client on a weekday (0 = Monday)."""
    weekend_type = np.asarray(chronotype) == WEEKEND_CHRONOTYPE
    if weekday >= 5:
        return np.where(weekend_type, 1.0, WEEKEND_VOLUME)
    return np.where(weekend_type, WEEKEND_CHRONOTYPE_WEEKDAY_VOLUME, 1.0)


def activity_hour_density(chronotype: np.ndarray, habit: np.ndarray) -> np.ndarray:
    """(n_clients, 168) expected share of a week's platform activity in each local hour of the
    week: each day's volume spread over the waking hours, a `habit` share of it inside the
    client's window when the window falls on that day."""
    chronotype = np.asarray(chronotype, dtype=np.int64)
    habit = np.asarray(habit, dtype=np.float64)[:, None]
    start, length = chronotype_windows()
    hour = np.arange(24)
    waking = ((hour >= WAKING_HOURS[0]) & (hour < WAKING_HOURS[1])) / (
        WAKING_HOURS[1] - WAKING_HOURS[0]
    )
    days = []
    for day in range(7):
        first, hours = start[chronotype, day][:, None], length[chronotype, day][:, None]
        window = ((hour >= first) & (hour < first + hours)) / np.maximum(hours, 1)
        share = np.where(hours > 0, habit, 0.0)
        days.append(day_volume(chronotype, day)[:, None] * ((1 - share) * waking + share * window))
    density = np.concatenate(days, axis=1)
    return density / density.sum(axis=1, keepdims=True)


def email_checking_weights(chronotype: np.ndarray, habit: np.ndarray) -> np.ndarray:
    """(n_clients, 168) relative chance that a client checks email in each local hour of the
    week: where it is active, and rarely at night."""
    density = activity_hour_density(chronotype, habit)
    return density + NIGHT_CHECKING * density.mean(axis=1, keepdims=True)


def open_delay_hours(
    checking: np.ndarray, sent_hour_of_week: np.ndarray, uniforms: np.ndarray
) -> np.ndarray:
    """Hours from a send to its open: the open falls in a later hour of the week with chance
    proportional to how much the client checks email then, decaying with the wait (the client
    opens at the first checks after the send). `checking` (m, 168) rows of the sends' clients,
    `uniforms` (m, 2): which hour, and where inside it."""
    offsets = np.arange(HOURS_PER_WEEK)
    hours = (np.asarray(sent_hour_of_week)[:, None] + offsets[None, :]) % HOURS_PER_WEEK
    weights = checking[np.arange(len(hours))[:, None], hours] * np.exp(
        -offsets / OPEN_PROMPTNESS_HOURS
    )
    cumulative = np.cumsum(weights, axis=1)
    target = uniforms[:, 0] * cumulative[:, -1]
    chosen = np.minimum((cumulative < target[:, None]).sum(axis=1), HOURS_PER_WEEK - 1)
    return chosen + uniforms[:, 1]


def fatigue_logit(unopened_in_a_row: np.ndarray) -> np.ndarray:
    """Open-logit penalty of the emails a client left unopened in a row."""
    return -FATIGUE_PER_UNOPENED * np.minimum(unopened_in_a_row, FATIGUE_CAP)


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
    fatigue: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Logit of the probability that a send is opened within 7 days (`fatigue`: see
    `fatigue_logit`)."""
    return (
        OPEN_INTERCEPT
        + 0.85 * propensity
        + hour_effect
        + 1.0 * (engagement_level - 1.0)
        - 0.3 * np.log1p(np.minimum(days_since_login, 60.0))
        + content
        + subject_taste
        - 0.45 * is_holiday
        + fatigue
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
