"""The reward model of the send-time DQN's doubly robust targets: P(open | state, hour), fitted
on logged sends.

A logged send shows the outcome of one hour; the DQN has one output per hour of the week, and a
default world logs a few hundred sends per hour, too few to learn 168 outputs from their own sends
alone (replaying raw logs, the greedy hours were worth less than the population's best hour). A
gradient-boosted classifier sees the hour as hour of day, day of week and weekend flag, and the
client's own habits at that hour (hours from its peak engagement hour, and whether the hour falls
on the kind of day it engages most), so what it learns at one hour carries to the others and to
the client's own habits. Its estimates fill the hours
a send did not take; the observed outcome corrects the hour it took (`dqn.doubly_robust_rewards`).
Nothing here reads the simulator's true probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from roi_assets.send_time.environment import HOURS_PER_WEEK, STATE_FEATURES

PEAK_SIN, PEAK_COS, PEAK_SHARE, PEAK_AT_WEEKENDS = (
    STATE_FEATURES.index(name)
    for name in (
        "engagement_peak_hour_sin",
        "engagement_peak_hour_cos",
        "engagement_peak_share",
        "engagement_peak_at_weekends",
    )
)

DAYS_PER_WEEK = 7
WEEKEND_FIRST_DAY = 5  # hours of week count from Monday 00:00, so days 5 and 6 are the weekend


def state_hour_features(states: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Client state followed by the hour's hour of day, day of week and weekend flag, and how the
    hour meets the client's habits: hours between it and the client's peak engagement hour
    (circular; 12 without a peak), that distance times the peak's share, and whether its day
    type (weekend or not) is the peak's. States narrower than the contract's (test worlds) get
    the distance 12 and no match."""
    states = np.asarray(states, dtype=np.float32)
    hours = np.asarray(hours, dtype=np.int64)
    day, hour_of_day = hours // 24, hours % 24
    weekend = day >= WEEKEND_FIRST_DAY
    if states.shape[1] == len(STATE_FEATURES):
        has_peak = (states[:, PEAK_SIN] != 0) | (states[:, PEAK_COS] != 0)
        peak = np.round(np.arctan2(states[:, PEAK_SIN], states[:, PEAK_COS]) * 24 / (2 * np.pi))
        gap = np.abs(hour_of_day - peak % 24)
        distance = np.where(has_peak, np.minimum(gap, 24 - gap), 12.0)
        concentrated = distance * states[:, PEAK_SHARE]
        same_days = has_peak & (weekend == (states[:, PEAK_AT_WEEKENDS] > 0.5))
    else:
        distance = np.full(len(states), 12.0)
        concentrated = np.zeros(len(states))
        same_days = np.zeros(len(states), dtype=bool)
    return np.column_stack(
        [states, hour_of_day, day, weekend, distance, concentrated, same_days]
    ).astype(np.float32)


@dataclass(frozen=True)
class OpenProbabilityModel:
    """P(open within 7 days | client state, local hour of week sent), fitted on logged sends."""

    classifier: HistGradientBoostingClassifier

    @classmethod
    def fit(
        cls,
        states: np.ndarray,
        hours: np.ndarray,
        opened: np.ndarray,
        *,
        weights: np.ndarray | None = None,
        max_iter: int = 200,
        seed: int = 0,
    ) -> OpenProbabilityModel:
        """Fit on logged sends: the state as of each send, its hour of week, whether it opened and
        the send's importance weight. Early stopping on a 10 % validation slice stops boosting
        once the log loss stops falling."""
        classifier = HistGradientBoostingClassifier(
            learning_rate=0.05,
            max_iter=max_iter,
            max_leaf_nodes=15,
            early_stopping=True,
            validation_fraction=0.1,
            random_state=seed,
        )
        classifier.fit(
            state_hour_features(states, hours),
            np.asarray(opened, dtype=np.int64),
            sample_weight=weights,
        )
        return cls(classifier)

    @property
    def boosting_iterations(self) -> int:
        return int(self.classifier.n_iter_)

    def open_probabilities(self, states: np.ndarray) -> np.ndarray:
        """(n, 168) predicted open probability of each state at each hour of the week."""
        states = np.asarray(states, dtype=np.float32)
        every_hour = np.tile(np.arange(HOURS_PER_WEEK), len(states))
        features = state_hour_features(np.repeat(states, HOURS_PER_WEEK, axis=0), every_hour)
        return self.classifier.predict_proba(features)[:, 1].reshape(len(states), HOURS_PER_WEEK)
