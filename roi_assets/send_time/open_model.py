"""A learned send-time environment: the open probability of any state at any hour, fitted on logs.

Why the DQN does not learn from the logged sends directly. The default world logs about 60,000
labelled sends of training clients, about 360 per hour of the week, and the DQN has one independent
output per hour. Replaying those sends (`LoggedSendsReplay`), the greedy hours it recommended to
the 404 held-out clients were worth an expected open rate anywhere between 0.21 and 0.285 from one
checkpoint to the next (three seeds, two minibatch settings), mostly below the historical-best
baseline's 0.275: the top hours differ by less than the noise of their estimates, and the
10,000-send replay holds only about 60 sends per hour at any time.

A gradient-boosted classifier given the hour as hour of day, day of week and weekend flag shares
what it learns across days; its best hours were worth 0.287 on the same clients. The DQN is
trained against the environment that classifier defines (model-based offline reinforcement
learning): the states are real clients' current states, the reward of sending at an hour is the
classifier's open probability. It reached 0.285 to 0.290 over three seeds, with the greedy hours
steady from a few hundred iterations on. Every reward comes from the logs through the classifier;
nothing reads the simulator's true probabilities.

What it does not buy at this scale: personal hours. The population's single best hour in the logs
was worth 0.290 too, because a few dozen logged sends per client say little about the client's
preferred hour (the oracle, which knows it, reaches 0.385).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from roi_assets.send_time.environment import HOURS_PER_WEEK, SendTimeEnvironment

DAYS_PER_WEEK = 7
WEEKEND_FIRST_DAY = 5  # hours of week count from Monday 00:00, so days 5 and 6 are the weekend


def state_hour_features(states: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Client state followed by the hour's hour of day, day of week and weekend flag."""
    hours = np.asarray(hours, dtype=np.int64)
    day = hours // 24
    return np.column_stack(
        [np.asarray(states, dtype=np.float32), hours % 24, day, day >= WEEKEND_FIRST_DAY]
    )


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
        max_iter: int = 200,
        seed: int = 0,
    ) -> OpenProbabilityModel:
        """Fit on logged sends: the state as of each send, its hour of week and whether it opened.

        Early stopping on a 10 % validation slice stops boosting once the log loss stops falling.
        """
        classifier = HistGradientBoostingClassifier(
            learning_rate=0.05,
            max_iter=max_iter,
            max_leaf_nodes=15,
            early_stopping=True,
            validation_fraction=0.1,
            random_state=seed,
        )
        classifier.fit(state_hour_features(states, hours), np.asarray(opened, dtype=np.int64))
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


def learned_environment(
    model: OpenProbabilityModel, states: np.ndarray, seed: int = 0
) -> SendTimeEnvironment:
    """An environment over these client states whose reward is the model's open probability
    (expected, not drawn: the model's probability is all it knows)."""
    return SendTimeEnvironment(
        states, model.open_probabilities(states), sample_rewards=False, seed=seed
    )
