"""One day of the world: who churns, what clients do, which emails go out and what they get.

Every random number of a day comes from generators seeded by (world seed, day) and is drawn for
every client whether or not it is still active, so the same day drawn twice is the same day, and
two policies compared on a day face the same luck (common random numbers): a send opened under
the decision taken would also have been opened under any policy with a higher probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from roi_assets.send_time.engagement_hours import most_frequent_engagement_hour
from roi_assets.simulator import catalog
from roi_assets.simulator.behaviour import (
    WAKING_HOURS,
    chronotype_windows,
    click_given_open_logit,
    content_logit,
    day_volume,
    email_checking_weights,
    fatigue_logit,
    hour_effect_matrix,
    open_delay_hours,
    open_logit,
    sigmoid,
)
from roi_assets.simulator.clients import engagement_level
from roi_assets.simulator.emails import (
    ACTION_GIVEN_CLICK,
    BUSINESS_HOURS,
    UNIFORM_SHARE,
)
from roi_assets.simulator.policies import (
    RETENTION_DAYS,
    RETENTION_EFFECT,
    Decisions,
    PolicyChoices,
)
from roi_assets.simulator.population import RENEWAL_WINDOW_DAYS, TERM_DAYS, Population
from roi_assets.simulator.state import WorldState

HOURS_PER_WEEK = 168
SNAPSHOT_FIRST_DAY = 28  # weekly churn snapshots: Mondays from day 28 on (day 0 is a Monday)
CHURN_WINDOWS = (30, 60, 90)
FAMILIES = tuple(catalog.CONTENT_VARIANTS)
# Platform sessions: they happen when the client is around (its window, `behaviour`); the rest
# (support, surveys, market signals) at any waking hour. Logins and document views are what the
# engagement-hour yardstick counts, with opens.
SESSION_EVENTS = ("login", "document_view", "document_upload", "feature_use")
ENGAGEMENT_EVENTS = ("login", "document_view")


@dataclass
class DayDraw:
    """What one day produced: rows for the sources' files and rows for the truth."""

    user_events: pd.DataFrame
    sends: pd.DataFrame  # raw.email_sends rows; sent_at may lie up to 6 days ahead
    email_events: pd.DataFrame  # opens, clicks, actions of those sends, at their own times
    new_client_idx: np.ndarray
    churned_client_idx: np.ndarray
    send_truth: pd.DataFrame  # send_id, client_id, sent_at, p_open, p_click
    policy_truth: pd.DataFrame  # one row per send and policy (live days only)
    churn_truth: pd.DataFrame  # snapshot rows (Mondays)
    retention_truth: pd.DataFrame  # one row per retention action taken today
    random_list_saves: float  # expected saves had the same number of random clients been acted on


def is_snapshot_day(day: int) -> bool:
    return day >= SNAPSHOT_FIRST_DAY and day % 7 == 0


def draw_day(
    world: Population, state: WorldState, day: int, decisions: Decisions | None
) -> DayDraw:
    """Advance `state` by one day under `decisions` (None: the legacy policy for everyone)."""
    clients = world.clients
    base_hazard = world.hazard(np.arange(day, day + 1 + max(CHURN_WINDOWS)))
    acted, retention = _apply_retention(world, state, day, decisions, base_hazard)
    hazard_today = base_hazard[:, 0] * state.hazard_factor(day)
    started = clients.signup_day <= day
    was_alive = started & (state.churn_day > day)
    state.cumulative_hazard += np.where(was_alive, hazard_today, 0.0)
    churned = was_alive & (state.cumulative_hazard >= world.churn_threshold)
    state.churn_day[churned] = day
    alive = was_alive & ~churned

    events_rng = np.random.default_rng([world.config.seed, 1, day])
    user_events, logins, engagement = _user_events(world, day, alive, events_rng)
    sends_rng = np.random.default_rng([world.config.seed, 2, day])
    sends, email_events, send_truth, policy_truth = _sends(
        world, state, day, alive, decisions, sends_rng
    )
    state.last_login_day[logins > 0] = day
    state.engagement_counts += engagement

    if day == 0:
        new = np.flatnonzero(clients.signup_day <= 0)
    else:
        new = np.flatnonzero(clients.signup_day == day)
    churn_truth = _churn_truth(world, state, day, alive, base_hazard)
    treated_share = _expected_saves(base_hazard[:, :RETENTION_DAYS], alive & ~acted)
    return DayDraw(
        user_events=user_events,
        sends=sends,
        email_events=email_events,
        new_client_idx=new,
        churned_client_idx=np.flatnonzero(churned),
        send_truth=send_truth,
        policy_truth=policy_truth,
        churn_truth=churn_truth,
        retention_truth=retention,
        random_list_saves=float(len(retention) * treated_share.mean()) if alive.any() else 0.0,
    )


def _apply_retention(
    world: Population,
    state: WorldState,
    day: int,
    decisions: Decisions | None,
    base_hazard: np.ndarray,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Start a retention action for each listed client not already in one; the truth records its
    30-day churn probability without and with the action."""
    acted = np.zeros(world.n_clients, dtype=bool)
    if decisions is None or not decisions.retention:
        return acted, _retention_frame([], [], [], day, world)
    alive = (world.clients.signup_day <= day) & (state.churn_day > day)
    candidates = [
        (idx, action)
        for idx, action in decisions.retention.items()
        if alive[idx] and state.retention_until[idx] < day
    ]
    idx = np.array([c[0] for c in candidates], dtype=np.int64)
    actions = [c[1] for c in candidates]
    window = base_hazard[idx, :RETENTION_DAYS].sum(axis=1)
    without = 1.0 - np.exp(-window)
    with_action = 1.0 - np.exp(-(1.0 - RETENTION_EFFECT) * window)
    state.retention_until[idx] = day + RETENTION_DAYS - 1
    acted[idx] = True
    return acted, _retention_frame(
        idx, actions, list(zip(without, with_action, strict=True)), day, world
    )


def _retention_frame(idx, actions, probabilities, day: int, world: Population) -> pd.DataFrame:
    ids = world.clients.table["client_id"].to_numpy()
    return pd.DataFrame(
        {
            "action_date": world.date(day),
            "client_id": ids[np.asarray(idx, dtype=np.int64)],
            "action": list(actions),
            "hazard_reduction": RETENTION_EFFECT,
            "p_churn_30_without": [p[0] for p in probabilities],
            "p_churn_30_with": [p[1] for p in probabilities],
        },
        columns=[
            "action_date",
            "client_id",
            "action",
            "hazard_reduction",
            "p_churn_30_without",
            "p_churn_30_with",
        ],
    )


def _expected_saves(hazard: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Per eligible client, how much a retention action would lower its 30-day churn chance."""
    window = hazard[eligible].sum(axis=1)
    return np.exp(-(1.0 - RETENTION_EFFECT) * window) - np.exp(-window)


def _user_events(
    world: Population, day: int, alive: np.ndarray, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Platform events of the day (logins, documents, support, market signals), login counts and
    the (n_clients, 168) count of logins and document views per local hour of the week."""
    clients, level = world.clients, world_level(world, day)
    windows = tuple(w[clients.chronotype, day % 7] for w in chronotype_windows())
    frames, logins = [], np.zeros(world.n_clients, dtype=np.int64)
    engagement = np.zeros((world.n_clients, HOURS_PER_WEEK), dtype=np.float32)
    offsets = world.utc_offsets[clients.region_index, day]
    for event_type, rate in _event_rates(world, day, level).items():
        # drawn for every client, then kept for the active ones: the day's luck does not depend
        # on who churned
        counts = rng.poisson(rate)
        idx_all = np.repeat(np.arange(world.n_clients), counts)
        minutes_all = _event_minutes(world, event_type, idx_all, windows, rng)
        details = _event_details(event_type, world, idx_all, level, rng)
        keep = alive[idx_all]
        if event_type == "login":
            logins = counts * alive
        if not keep.any():
            continue
        idx = idx_all[keep]
        if event_type in ENGAGEMENT_EVENTS:
            local_hour = (day % 7) * 24 + minutes_all[keep] // 60
            np.add.at(engagement, (idx, local_hour), 1.0)
        frame = pd.DataFrame(
            {
                "client_idx": idx,
                "event_type": event_type,
                "occurred_at": _at(world, day, minutes_all[keep] - offsets[idx] * 60),
                "feature_name": None,
                "sentiment": np.nan,
                "nps_score": np.nan,
                "size_mb": np.nan,
                "duration_minutes": np.nan,
            }
        )
        for column, values in details.items():
            frame[column] = values[keep]
        frames.append(frame)
    if not frames:
        empty = pd.DataFrame(columns=["client_idx", "event_type", "occurred_at"])
        return empty, logins, engagement
    events = pd.concat(frames, ignore_index=True).sort_values("occurred_at", kind="stable")
    return events.reset_index(drop=True), logins, engagement


def _event_rates(world: Population, day: int, level: np.ndarray) -> dict[str, np.ndarray]:
    """Each client's expected number of events of each type today: platform use follows its
    activity, the market's level and its weekday rhythm; complaints its satisfaction; looking
    elsewhere its competitor interest, sharper when its renewal is near."""
    clients, scale = world.clients, world.config.scale.activity_scale
    login_factor = world.config.drift.login_rate_factor if _drifted(world, day) else 1.0
    a, s, c = clients.activity * scale, clients.satisfaction, clients.competitor_interest
    busy = a * level * day_volume(clients.chronotype, day % 7)
    searching = scale * np.exp(0.8 * c) * (1 + 1.5 * renewal_soon(world, day)) * (2 - level)
    ones = np.ones(world.n_clients)
    return {
        "login": 0.45 * busy * login_factor,
        "document_view": 0.7 * busy,
        "document_upload": 0.12 * busy,
        "feature_use": 0.5 * busy,
        "support_ticket": 0.012 * scale * np.exp(-0.5 * s) * ones,
        "help_article_view": 0.03 * scale * np.exp(-0.4 * s) * np.sqrt(level),
        "feature_request": 0.006 * a,
        "nps_response": 0.004 * scale * ones,
        "feedback_form": 0.005 * scale * ones,
        "referral": 0.0015 * scale * np.exp(0.6 * s) * level,
        "team_invite": 0.003 * a * level,
        "integration_connected": 0.0015 * a,
        "competitor_email_open": 0.015 * searching,
        "price_comparison_search": 0.008 * searching,
    }


def _event_minutes(
    world: Population,
    event_type: str,
    idx: np.ndarray,
    windows: tuple[np.ndarray, np.ndarray],
    rng: np.random.Generator,
) -> np.ndarray:
    """Local minute of the day of each event: any waking minute, but a session (SESSION_EVENTS)
    falls in the client's window (start hour, length in hours) when its habit holds."""
    minutes = rng.integers(WAKING_HOURS[0] * 60, WAKING_HOURS[1] * 60, len(idx))
    if event_type not in SESSION_EVENTS:
        return minutes
    window_start, window_length = windows
    in_window = rng.random(len(idx)) < world.habit[idx]
    in_window &= window_length[idx] > 0
    window_minute = window_start[idx] * 60 + (
        rng.random(len(idx)) * window_length[idx] * 60
    ).astype(np.int64)
    return np.where(in_window, window_minute, minutes)


def _event_details(
    event_type: str, world: Population, idx: np.ndarray, level: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """The columns an event type carries besides its time."""
    clients, m = world.clients, len(idx)
    if event_type == "login":
        return {"duration_minutes": np.round(rng.gamma(2.0, 6.0, m), 1)}
    if event_type == "document_upload":
        return {"size_mb": np.round(rng.lognormal(1.0, 1.0, m), 2)}
    if event_type == "feature_use":
        step = rng.geometric(world.feature_focus[idx]) - 1
        index = (world.favourite_feature[idx] + step) % len(catalog.PLATFORM_FEATURES)
        return {"feature_name": np.array(catalog.PLATFORM_FEATURES)[index]}
    if event_type == "support_ticket":
        mood = 0.35 * clients.satisfaction[idx] - 0.1 + 0.4 * (level[idx] - 1)
        return {"sentiment": np.round(np.clip(rng.normal(mood, 0.35), -1, 1), 3)}
    if event_type == "nps_response":
        score = 7 + 1.8 * clients.satisfaction[idx] + 2 * (level[idx] - 1)
        return {"nps_score": np.clip(np.round(score + rng.normal(0, 1.2, m)), 0, 10)}
    return {}


def world_level(world: Population, day: int) -> np.ndarray:
    """Each client's engagement multiplier on `day`."""
    return engagement_level(world.clients, np.array([day]))[:, 0]


def renewal_soon(world: Population, day: int) -> np.ndarray:
    """1.0 for clients whose contract renews within the renewal window of `day`."""
    days_left = (world.clients.signup_day - day) % TERM_DAYS
    return (days_left <= RENEWAL_WINDOW_DAYS).astype(float)


def _at(world: Population, day: int | np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """UTC timestamps (microseconds) `minutes` after midnight UTC of `day`."""
    start = np.datetime64(world.config.start_date, "m")
    return (start + (np.asarray(day) * 1440 + minutes).astype("timedelta64[m]")).astype(
        "datetime64[us]"
    )


def _sends(
    world: Population,
    state: WorldState,
    day: int,
    alive: np.ndarray,
    decisions: Decisions | None,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The campaign's emails of the day: the agency decides who gets one; the product (where it
    has decided) when and with which variants; the world decides whether they are opened."""
    idx, d = _draw_sends(world, day, alive, rng)
    odds = _SendOdds.of(world, state, day, idx, d)
    legacy_local = np.where(d["uniform_hour"], d["any_hour"], d["business_hour"])
    legacy_how = (day % 7) * 24 + legacy_local  # today's habitual hour, as an hour of the week
    legacy_variants = {f: d[f"legacy_{f}"] for f in FAMILIES}
    choices = PolicyChoices.for_sends(decisions, idx, legacy_how, legacy_variants)
    taken_how, taken_variants = choices.hour_of_week, choices.variants
    p_open, p_click = odds.probabilities(taken_how, taken_variants)
    opened = d["u_open"] < p_open
    clicked = opened & (d["u_click"] < p_click / np.maximum(p_open, 1e-12))
    acted = clicked & (d["u_action"] < ACTION_GIVEN_CLICK)
    checking = email_checking_weights(world.clients.chronotype[idx], world.habit[idx])
    d["open_delay"] = open_delay_hours(checking, taken_how, d["u_open_delay"])
    _accumulate_content_ctr(state, odds.segment, taken_how, taken_variants, odds.probabilities)
    if decisions is None:  # the ε-greedy yardstick learns from the legacy logs, as it could
        state.epsilon_greedy.learn(odds.segment, taken_variants, clicked)

    sent_at = _sent_at(world, day, idx, taken_how, d["minute"])
    send_ids = np.array([f"E{state.next_send_id + i:09d}" for i in range(len(idx))])
    state.next_send_id += len(idx)
    ids = world.clients.table["client_id"].to_numpy()[idx]
    sends = _sends_frame(day, send_ids, ids, sent_at, d, taken_variants)
    email_events = _outcome_events(sends, opened, clicked, acted, d)
    send_truth = pd.DataFrame(
        {
            "send_id": send_ids,
            "client_id": ids,
            "sent_at": sent_at,
            "p_open": p_open,
            "p_click": p_click,
        }
    )
    policy_truth = pd.DataFrame()
    if decisions is not None:
        policy_truth = _policy_truth(world, day, send_ids, ids, idx, choices, odds, state, d)
    _remember_outcomes(state, idx, opened, taken_how, d)
    return sends, email_events, send_truth, policy_truth


def _draw_sends(
    world: Population, day: int, alive: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Which clients get an email today (a client index per send) and every random number each
    send needs. They are drawn for every client, churned or not, in a fixed order, so that no
    decision or churn moves another send's luck; then the churned clients' sends are dropped and
    the drift, once started, shifts the content."""
    config = world.config
    counts = rng.poisson(config.scale.sends_per_week / 7.0, world.n_clients)
    all_idx = np.repeat(np.arange(world.n_clients), counts)
    m_all = len(all_idx)
    business = BUSINESS_HOURS / BUSINESS_HOURS.sum()
    draws = {
        "uniform_hour": rng.random(m_all) < UNIFORM_SHARE,
        "any_hour": rng.integers(0, 24, m_all),
        "business_hour": rng.choice(24, m_all, p=business),
        "minute": rng.integers(0, 60, m_all),
        "random_hour_of_week": rng.integers(0, HOURS_PER_WEEK, m_all),
        "subject_length": np.clip(np.round(rng.normal(45, 15, m_all)), 10, 120),
        "personalization": rng.beta(2, 2, m_all),
        "urgency": (rng.random(m_all) < 0.2).astype(int),
        "value_proposition": rng.beta(2, 3, m_all),
        "cta_count": np.clip(rng.poisson(1.5, m_all), 0, 5),
        "image_count": np.clip(rng.poisson(2.0, m_all), 0, 8),
        "u_open": rng.random(m_all),
        "u_click": rng.random(m_all),
        "u_action": rng.random(m_all),
        "u_open_delay": rng.random((m_all, 2)),
        "click_delay": rng.exponential(0.1, m_all),
        "action_delay": rng.exponential(2.0, m_all),
        **{f"legacy_{f}": rng.integers(0, 5, m_all) for f in FAMILIES},
        **{f"uniform_{f}": rng.integers(0, 5, m_all) for f in FAMILIES},
        "u_explore": rng.random((m_all, len(FAMILIES), 2)),
    }
    keep = alive[all_idx]
    d = {k: v[keep] for k, v in draws.items()}
    if _drifted(world, day):
        drift = config.drift
        d["subject_length"] = np.clip(d["subject_length"] + drift.subject_length_shift, 10, 160)
        d["personalization"] = np.clip(d["personalization"] + drift.personalization_shift, 0, 1)
    return all_idx[keep], d


def _drifted(world: Population, day: int) -> bool:
    return world.config.drift is not None and day >= world.config.drift.start_day


@dataclass(frozen=True)
class _SendOdds:
    """Everything that sets the day's sends' chances of an open and a click but the hour and
    the variants, so that the decision taken and every policy it is judged against are priced
    on the same sends."""

    world: Population
    idx: np.ndarray  # the client of each send
    segment: np.ndarray
    hour_effect: np.ndarray  # (sends, 168): the client's open logit at each local hour of week
    level: np.ndarray
    since_login: np.ndarray
    content: np.ndarray
    holiday: float
    fatigue: np.ndarray
    value_proposition: np.ndarray
    cta_count: np.ndarray

    @classmethod
    def of(
        cls,
        world: Population,
        state: WorldState,
        day: int,
        idx: np.ndarray,
        d: dict[str, np.ndarray],
    ) -> _SendOdds:
        drift = world.config.drift
        hour_shift = drift.hour_shift if _drifted(world, day) else 0
        return cls(
            world=world,
            idx=idx,
            segment=world.segment_index[idx],
            hour_effect=hour_effect_matrix(world.clients.chronotype[idx], hour_shift),
            level=world_level(world, day)[idx],
            since_login=np.minimum(day - state.last_login_day[idx], 60).astype(float),
            content=content_logit(
                d["subject_length"],
                d["personalization"],
                d["urgency"],
                d["value_proposition"],
                d["cta_count"],
                d["image_count"],
            ),
            holiday=float(np.isin(day, world.holiday_days)),
            fatigue=fatigue_logit(state.unopened_in_a_row[idx]),
            value_proposition=d["value_proposition"],
            cta_count=d["cta_count"],
        )

    def probabilities(
        self, how: np.ndarray, variants: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each send's probability of an open and of a click at local hour of week `how` with
        `variants` (family -> variant index)."""
        propensity, taste = self.world.clients.propensity[self.idx], self.world.taste
        p_open = sigmoid(
            open_logit(
                propensity,
                self.hour_effect[np.arange(len(self.idx)), how],
                self.level,
                self.since_login,
                self.content,
                taste.subject_line[self.segment, variants["subject_line"]],
                self.holiday,
                self.fatigue,
            )
        )
        p_click = sigmoid(
            click_given_open_logit(
                propensity,
                taste.email_template[self.segment, variants["email_template"]],
                taste.cta_style[self.segment, variants["cta_style"]],
                self.value_proposition,
                self.cta_count,
            )
        )
        return p_open, p_open * p_click


def _sent_at(
    world: Population, day: int, idx: np.ndarray, how: np.ndarray, minute: np.ndarray
) -> np.ndarray:
    """When each email leaves: at the next occurrence of its local hour of week, in UTC."""
    send_day = day + (how // 24 - day % 7) % 7
    offset = world.utc_offsets[world.clients.region_index[idx], send_day]
    return _at(world, send_day, (how % 24) * 60 + minute - offset * 60)


def _sends_frame(
    day: int,
    send_ids: np.ndarray,
    ids: np.ndarray,
    sent_at: np.ndarray,
    d: dict[str, np.ndarray],
    variants: dict[str, np.ndarray],
) -> pd.DataFrame:
    """The day's raw.email_sends rows."""
    return pd.DataFrame(
        {
            "send_id": send_ids,
            "client_id": ids,
            "campaign_id": f"CMP{day // 7:03d}",
            "sent_at": sent_at,
            "subject_length": d["subject_length"].astype(int),
            "personalization_score": np.round(d["personalization"], 4),
            "urgency_indicators": d["urgency"].astype(bool),
            "value_proposition_strength": np.round(d["value_proposition"], 4),
            "call_to_action_count": d["cta_count"].astype(int),
            "image_count": d["image_count"].astype(int),
            **{
                catalog.VARIANT_COLUMNS[f]: np.array(catalog.CONTENT_VARIANTS[f])[variants[f]]
                for f in FAMILIES
            },
        }
    )


def _remember_outcomes(state: WorldState, idx, opened, taken_how, d) -> None:
    """Fatigue after the day's sends (reset by an open, else one more per unopened email) and the
    local hour of week of each open for the engagement-hour yardstick. Opens are counted when
    drawn, a few hours to days before they land: over a history of months that lead is noise."""
    n = len(state.unopened_in_a_row)
    opened_today = np.bincount(idx, opened, minlength=n) > 0
    unopened_today = np.bincount(idx, ~opened, minlength=n).astype(np.int64)
    state.unopened_in_a_row = np.where(opened_today, 0, state.unopened_in_a_row + unopened_today)
    open_hour = (taken_how + (d["minute"] / 60.0 + d["open_delay"]).astype(np.int64)) % 168
    np.add.at(state.engagement_counts, (idx[opened], open_hour[opened]), 1.0)


def _accumulate_content_ctr(state, segment, how, variants, probabilities) -> None:
    """Add each send's true CTR with every variant substituted in turn (truth.content_ctr)."""
    n_segments = len(state.segment_counts)
    for f, family in enumerate(FAMILIES):
        for v in range(state.ctr_sums.shape[2]):
            _, p_click = probabilities(how, {**variants, family: np.full(len(segment), v)})
            state.ctr_sums[f, :, v] += np.bincount(segment, p_click, minlength=n_segments)
    state.segment_counts += np.bincount(segment, minlength=n_segments)


def _policy_truth(world, day, send_ids, ids, idx, choices, odds: _SendOdds, state, d):
    """Each send's probabilities under the decision taken and under every policy it is judged
    against: hour policies keep the variants taken, content policies keep the hour taken."""
    m = len(send_ids)
    probabilities, hour_effect, segment = odds.probabilities, odds.hour_effect, odds.segment
    taken_how, taken_variants = choices.hour_of_week, choices.variants
    population_best = int(np.argmax(sigmoid(hour_effect).mean(axis=0))) if m else 0
    oracle_variants = {f: getattr(world.taste, f)[segment].argmax(axis=1) for f in FAMILIES}
    uniform_variants = {f: d[f"uniform_{f}"] for f in FAMILIES}
    greedy_variants = state.epsilon_greedy.choose(segment, d["u_explore"])
    engagement_hour = most_frequent_engagement_hour(state.engagement_counts[idx], population_best)
    policies = {
        "product": (taken_how, taken_variants),
        "legacy": (choices.legacy_hour_of_week, choices.legacy_variants),
        "random_hour": (d["random_hour_of_week"], taken_variants),
        "population_best_hour": (np.full(m, population_best), taken_variants),
        "oracle_hour": (hour_effect.argmax(axis=1), taken_variants),
        "engagement_hour": (engagement_hour, taken_variants),
        "uniform_random_content": (taken_how, uniform_variants),
        "epsilon_greedy_content": (taken_how, greedy_variants),
        "oracle_content": (taken_how, oracle_variants),
    }
    frames = []
    for policy, (how, variants) in policies.items():
        p_open, p_click = probabilities(how, variants)
        frames.append(
            pd.DataFrame(
                {
                    "send_id": send_ids,
                    "client_id": ids,
                    "decision_date": world.date(day),
                    "policy": policy,
                    "decided_by_product": choices.decided,
                    "p_open": p_open,
                    "p_click": p_click,
                }
            )
        )
        if policy == "epsilon_greedy_content":  # it learns from its own (counterfactual) clicks
            clicked = (d["u_open"] < p_open) & (d["u_click"] < p_click / np.maximum(p_open, 1e-12))
            state.epsilon_greedy.learn(segment, variants, clicked)
    return pd.concat(frames, ignore_index=True)


def _outcome_events(
    sends: pd.DataFrame, opened: np.ndarray, clicked: np.ndarray, acted: np.ndarray, d: dict
) -> pd.DataFrame:
    """Webhook events: open within 7 days, click minutes after, action after the click."""
    open_delay = d["open_delay"]
    click_delay = open_delay + d["click_delay"]
    action_delay = click_delay + d["action_delay"]
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
                    "event_id": rows["send_id"].to_numpy() + "-" + event_type,
                    "send_id": rows["send_id"].to_numpy(),
                    "client_id": rows["client_id"].to_numpy(),
                    "event_type": event_type,
                    "occurred_at": occurred.to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values("occurred_at", kind="stable")


def _churn_truth(
    world: Population, state: WorldState, day: int, alive: np.ndarray, base_hazard: np.ndarray
) -> pd.DataFrame:
    """On snapshot days, each active client's true chance of churning within each window, with
    the retention actions already running."""
    if not is_snapshot_day(day):
        return pd.DataFrame()
    factor = np.ones_like(base_hazard[:, 1:])
    running = state.retention_until >= day + 1
    horizon = np.arange(day + 1, day + 1 + factor.shape[1])
    under_action = running[:, None] & (horizon[None, :] <= state.retention_until[:, None])
    factor[under_action] = 1.0 - RETENTION_EFFECT
    cumulative = np.cumsum(base_hazard[:, 1:] * factor, axis=1)
    ids = world.clients.table["client_id"].to_numpy()
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "client_id": ids[alive],
                    "snapshot_date": world.date(day),
                    "window_days": window,
                    "p_churn": 1.0 - np.exp(-cumulative[alive, window - 1]),
                }
            )
            for window in CHURN_WINDOWS
        ],
        ignore_index=True,
    )
