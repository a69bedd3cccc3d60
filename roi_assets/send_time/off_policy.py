"""The send-time DQN's experience from logged sends: chained transitions, importance weights and a
source that hands them to the learner with the reward model's estimates.

A client's logged sends form its episode: the transition of a send leads to the state of the
client's next logged send, and the last labelled send to the client's state now (the next email
will start from there). The logging policy chose the hours: the legacy habits before the product,
the product's own recommendations since. Each send's importance weight says how much more (or
less) likely a uniformly random hour would have picked its hour than the logging policy did,

    w = min(MAX_WEIGHT, 1 / (168 · μ(a)))

with μ the policy's estimated propensity (`states.logged_send_states`); w = 1 under uniform
logging, below 1 for the hours the logging policy favoured, above 1 (clipped) for those it rarely
used. They scale the logged hour's residual in the doubly robust targets
(`dqn.doubly_robust_rewards`). The reward model is fitted on the logs unweighted: weighting its
fit too was measured worse (the greedy hours of a weighted fit were worth 0.345 on the default
world's held-out clients, of an unweighted one 0.358: the weights' variance costs more than the
legacy policy's hour bias, which the model's hour features absorb).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from roi_assets.send_time.environment import HOURS_PER_WEEK, STATE_FEATURES, Policy, Transitions
from roi_assets.send_time.open_model import OpenProbabilityModel

# Clipping bounds the variance a rarely logged hour adds (the estimator's bias stays in the
# reward model's hands there); 10 is three times the legacy policy's largest weight.
MAX_WEIGHT = 10.0


def importance_weights(propensities: np.ndarray, max_weight: float = MAX_WEIGHT) -> np.ndarray:
    """w = min(max_weight, 1 / (168 · μ)) for each logged send's estimated propensity μ."""
    propensities = np.asarray(propensities, dtype=np.float64)
    if np.any(propensities <= 0):
        raise ValueError("logging propensities must be positive")
    return np.minimum(max_weight, 1.0 / (HOURS_PER_WEEK * propensities))


@dataclass(frozen=True)
class LoggedTransitions:
    """Logged sends as transitions, in time order (`sent_at`)."""

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray
    weights: np.ndarray
    sent_at: np.ndarray

    def __len__(self) -> int:
        return len(self.actions)


def chain_transitions(logged_sends: pl.DataFrame, client_states: pl.DataFrame) -> LoggedTransitions:
    """Each logged send (`states.logged_send_states`) with the state of the client's next logged
    send, or the client's current state (`states.client_states`) after its last one."""
    now = client_states.select("client_id", *(pl.col(f).alias(f"next_{f}") for f in STATE_FEATURES))
    chained = (
        logged_sends.sort("client_id", "sent_at", "send_id")
        .with_columns(
            pl.col(f).shift(-1).over("client_id").alias(f"next_{f}") for f in STATE_FEATURES
        )
        .join(now, on="client_id", how="left", suffix="_now")
        .with_columns(
            pl.coalesce(f"next_{f}", f"next_{f}_now").alias(f"next_{f}") for f in STATE_FEATURES
        )
        .drop_nulls([f"next_{f}" for f in STATE_FEATURES])
        .sort("sent_at", "send_id")
    )
    return LoggedTransitions(
        states=chained.select(STATE_FEATURES).to_numpy().astype(np.float32),
        actions=chained["hour_of_week"].to_numpy().astype(np.int64),
        rewards=chained["opened"].to_numpy().astype(np.float32),
        next_states=chained.select([f"next_{f}" for f in STATE_FEATURES])
        .to_numpy()
        .astype(np.float32),
        weights=importance_weights(chained["logging_propensity"].to_numpy()).astype(np.float32),
        sent_at=chained["sent_at"].to_numpy(),
    )


def fit_reward_model(
    transitions: LoggedTransitions, max_iter: int = 200, seed: int = 0
) -> OpenProbabilityModel:
    """The open model of the doubly robust targets (fitted unweighted, see above)."""
    return OpenProbabilityModel.fit(
        transitions.states, transitions.actions, transitions.rewards, max_iter=max_iter, seed=seed
    )


class LoggedTransitionSource:
    """Hands logged transitions to `DQNAgent.train`: first, in time order, those sent after
    `new_since` (the outcomes that landed since the agent last learned), then draws with
    replacement from all of them. Each batch carries the reward model's estimate at every hour.
    The policy the learner passes is not consulted: the logging policy chose the hours."""

    def __init__(
        self,
        transitions: LoggedTransitions,
        reward_model: OpenProbabilityModel,
        *,
        new_since: dt.datetime | None = None,
        seed: int = 0,
    ) -> None:
        if len(transitions) == 0:
            raise ValueError("no logged transitions to learn from")
        self.data = transitions
        self.reward_model = reward_model
        self._rng = np.random.default_rng(seed)
        self._new = (
            np.empty(0, dtype=np.int64)
            if new_since is None
            else np.flatnonzero(transitions.sent_at > np.datetime64(new_since))
        )
        self.n_new = len(self._new)

    @property
    def state_dim(self) -> int:
        return self.data.states.shape[1]

    @property
    def n_actions(self) -> int:
        return HOURS_PER_WEEK

    def transitions(self, policy: Policy, batch_size: int) -> Transitions:
        first, self._new = self._new[:batch_size], self._new[batch_size:]
        drawn = self._rng.integers(0, len(self.data), batch_size - len(first))
        rows = np.concatenate([first, drawn])
        d = self.data
        return Transitions(
            states=d.states[rows],
            actions=d.actions[rows],
            rewards=d.rewards[rows],
            next_states=d.next_states[rows],
            terminal=np.zeros(len(rows), dtype=np.float32),
            model_rewards=self.reward_model.open_probabilities(d.states[rows]).astype(np.float32),
            weights=d.weights[rows],
        )
