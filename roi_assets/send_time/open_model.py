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

The trees are XGBoost's: every minibatch of a DQN update asks for 168 estimates per send (6.5
million a daily update), and on the default world's logs XGBoost's in-place prediction took half
the time of scikit-learn's HistGradientBoosting for the same trees, its fit a fifth, at the same
held-out log loss (docs/benchmarks.md, send-time reward model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xgboost as xgb

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


VALIDATION_FRACTION = 0.1
EARLY_STOPPING_ROUNDS = 10


@dataclass(frozen=True)
class OpenProbabilityModel:
    """P(open within 7 days | client state, local hour of week sent), fitted on logged sends."""

    booster: xgb.Booster
    boosting_iterations: int

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
        the send's importance weight. Early stopping on a seeded 10 % validation slice stops
        boosting once the log loss has not fallen for 10 rounds."""
        features = state_hour_features(states, hours)
        labels = np.asarray(opened, dtype=np.float32)
        weights = np.ones(len(labels), np.float32) if weights is None else np.asarray(weights)
        held = np.random.default_rng(seed).random(len(labels)) < VALIDATION_FRACTION
        fitting, validation = (
            xgb.DMatrix(features[rows], label=labels[rows], weight=weights[rows])
            for rows in (~held, held)
        )
        booster = xgb.train(
            {
                "objective": "binary:logistic",
                "eval_metric": "logloss",
                "tree_method": "hist",
                "grow_policy": "lossguide",
                "max_leaves": 15,
                "max_depth": 0,
                "learning_rate": 0.05,
                "seed": seed,
            },
            fitting,
            num_boost_round=max_iter,
            evals=[(validation, "validation")],
            early_stopping_rounds=EARLY_STOPPING_ROUNDS,
            verbose_eval=False,
        )
        return cls(booster, int(booster.best_iteration) + 1)

    def open_probabilities(self, states: np.ndarray) -> np.ndarray:
        """(n, 168) predicted open probability of each state at each hour of the week."""
        states = np.asarray(states, dtype=np.float32)
        every_hour = np.tile(np.arange(HOURS_PER_WEEK), len(states))
        features = state_hour_features(np.repeat(states, HOURS_PER_WEEK, axis=0), every_hour)
        predicted = self.booster.inplace_predict(
            features, iteration_range=(0, self.boosting_iterations)
        )
        return np.asarray(predicted).reshape(len(states), HOURS_PER_WEEK)
