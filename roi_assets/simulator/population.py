"""What a world is made of before its clock starts: clients, tastes, markets and calendars.

Everything here is drawn from the seed alone, so a world re-loaded from its state on another day
(or another machine) is the same world. The calendars cover the bootstrap history plus a live
horizon, and a churn horizon beyond it so that 90-day truths exist on the last live day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np

from roi_assets.simulator import catalog
from roi_assets.simulator.behaviour import daily_churn_hazard
from roi_assets.simulator.clients import Clients, draw_clients, engagement_level, utc_offset_hours
from roi_assets.simulator.emails import ContentTaste, draw_content_taste, us_holiday_days
from roi_assets.simulator.scales import WorldConfig

LIVE_HORIZON_DAYS = 400  # how many live days a world can advance past its bootstrap history
CHURN_HORIZON_DAYS = 90  # hazards exist this far past any day, for the 90-day churn truth
RENEWAL_WINDOW_DAYS = 30
TERM_DAYS = 365


@dataclass(frozen=True)
class Population:
    """The world's fixed ingredients; the clock's state lives in `WorldState`."""

    config: WorldConfig
    clients: Clients
    taste: ContentTaste
    volatility: np.ndarray  # (n_regions, n_weeks)
    utc_offsets: np.ndarray  # (n_regions, n_calendar_days)
    holiday_days: np.ndarray
    churn_threshold: np.ndarray  # a client churns when its cumulative hazard crosses this
    segment_index: np.ndarray
    favourite_feature: np.ndarray
    feature_focus: np.ndarray
    habit: np.ndarray  # share of a client's activity inside its preferred window (behaviour.py)

    @property
    def n_clients(self) -> int:
        return len(self.clients)

    @property
    def last_day(self) -> int:
        """The last day the clock may reach (bootstrap history plus the live horizon)."""
        return self.config.scale.n_days + LIVE_HORIZON_DAYS - 1

    def date(self, day: int) -> dt.date:
        return self.config.start_date + dt.timedelta(days=int(day))

    def hazard(self, days: np.ndarray) -> np.ndarray:
        """(n_clients, len(days)) daily churn hazard without any retention action."""
        clients = self.clients
        level = engagement_level(clients, days)
        renewal = ((clients.signup_day[:, None] - days[None, :]) % TERM_DAYS).astype(float)
        month = np.array([self.date(d).month for d in days])
        seasonal = 1.0 + 0.3 * np.cos(2 * np.pi * (month - 1) / 12.0)
        hazard = daily_churn_hazard(
            level,
            clients.satisfaction[:, None],
            clients.competitor_interest[:, None],
            (renewal <= RENEWAL_WINDOW_DAYS).astype(float),
            self.volatility[clients.region_index][:, days // 7],
            seasonal[None, :],
        )
        started = days[None, :] >= np.maximum(clients.signup_day, 0)[:, None]
        return np.where(started, hazard, 0.0)


def market_volatility(config: WorldConfig, rng: np.random.Generator) -> np.ndarray:
    """(n_regions, n_weeks) standardised volatility index: a mean-reverting random walk."""
    n_weeks = (config.scale.n_days + CHURN_HORIZON_DAYS) // 7 + 1
    walk = np.zeros((len(catalog.REGIONS), n_weeks))
    for w in range(1, n_weeks):
        walk[:, w] = 0.8 * walk[:, w - 1] + rng.normal(0, 0.6, len(catalog.REGIONS))
    return walk


def draw_population(config: WorldConfig) -> Population:
    rng = np.random.default_rng([config.seed, 0])
    clients = draw_clients(config, rng)
    taste = draw_content_taste(rng)
    calendar_days = config.scale.n_days + LIVE_HORIZON_DAYS + CHURN_HORIZON_DAYS
    horizon = _with_days(config, calendar_days)
    traits = np.random.default_rng([config.seed, 4])
    lookup = {segment: i for i, segment in enumerate(catalog.SEGMENTS)}
    segments = np.array(
        [
            lookup[catalog.segment_of(t, b)]
            for t, b in zip(
                clients.table["client_type"], clients.table["property_value_bracket"], strict=True
            )
        ]
    )
    return Population(
        config=config,
        clients=clients,
        taste=taste,
        volatility=market_volatility(horizon, rng),
        utc_offsets=utc_offset_hours(config, calendar_days),
        holiday_days=us_holiday_days(horizon),
        churn_threshold=traits.exponential(1.0, len(clients)),
        segment_index=segments,
        favourite_feature=traits.integers(0, len(catalog.PLATFORM_FEATURES), len(clients)),
        feature_focus=traits.uniform(0.25, 0.7, len(clients)),
        habit=traits.beta(4.0, 5.0, len(clients)),
    )


def _with_days(config: WorldConfig, n_days: int) -> WorldConfig:
    """The same world stretched over `n_days` (for calendars that must cover the live horizon)."""
    return replace(config, scale=replace(config.scale, n_days=n_days))
