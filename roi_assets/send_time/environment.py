"""Where the send-time optimizer gets its experience: a known-truth environment and logged sends.

Each email send is a step: observe a client's state, pick one of the 168 hours of the week (the
client's local time, 0 = Monday 00:00), observe an open and maybe a click, and the client's next
send starts from a state this one changed. Sources provide such transitions through the same
`TransitionSource` protocol, so the DQN trains on any without knowing which:

- `SendTimeEnvironment`: built from arrays of client states and the TRUE open (and click)
  probability of every client at every hour; its sends are one-step episodes. Any known-truth
  world (a test fixture, a notebook) works; this module imports no simulator.
- `LoggedSendsReplay`: logged sends chosen by some logging policy, as (state, hour, outcome); it
  estimates a new policy's open rate from them (rejection replay and inverse propensity scoring).
- `off_policy.LoggedTransitionSource`: what the product learns from: logged sends chained into
  each client's episode, with importance weights and a reward model's estimates.

State layout contract
---------------------
The learner only needs the state width (`DEFAULT_STATE_DIM`, configurable). The warehouse builds
states in the order of `STATE_FEATURES`, each scaled to roughly [0, 1] or [-1, 1]:

====== ============================================================================
index  meaning
====== ============================================================================
0-3    email history: lifetime_open_rate, recent_open_rate_30d, click_through_rate,
       email_frequency_score (sends in 30 days / 8)
4-5    what the last sends did: sends in the last 7 days / 4, emails sent since the
       last open / 10 (fatigue; both capped at 1)
6-8    recency: log1p(days since the last open, click, platform session) / log(366)
9      how much engagement there is to read hours from: log1p(opens, logins and
       document views so far) / log(1001), capped at 1
10-11  when the client engages: its most frequent local hour of day for those events
       (each open counted when it was opened) as sine and cosine (zeros: none yet)
12     the share of its events within an hour of that peak
13     1 when the peak is a weekend habit (more events per day there at weekends)
14-17  share of its events at night (0-6), morning (6-12), afternoon (12-18),
       evening (18-24)
18     share of them at weekends
19     time zone: UTC offset of the client's region in hours / 12
====== ============================================================================

A send changes the next send's state (its open resets the fatigue count and the recency, and
moves the rates), which is why the DQN bootstraps from the next state (`off_policy`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

HOURS_PER_WEEK = 168
DEFAULT_STATE_DIM = 20
DAY_PARTS = ("night", "morning", "afternoon", "evening")  # local hours 0-6, 6-12, 12-18, 18-24
STATE_FEATURES = (
    "lifetime_open_rate",
    "recent_open_rate_30d",
    "click_through_rate",
    "email_frequency_score",
    "sends_last_7d_scaled",
    "unopened_since_last_open_scaled",
    "days_since_last_open_scaled",
    "days_since_last_click_scaled",
    "days_since_last_activity_scaled",
    "engagement_events_scaled",
    "engagement_peak_hour_sin",
    "engagement_peak_hour_cos",
    "engagement_peak_share",
    "engagement_peak_at_weekends",
    *(f"engagement_share_{part}" for part in DAY_PARTS),
    "weekend_engagement_share",
    "utc_offset_scaled",
)

# Either a full (n_clients, 168) array or a function from client indices to their rows, so a large
# world need not hold every client's probabilities in memory at once.
ProbabilityTable = np.ndarray | Callable[[np.ndarray], np.ndarray]
Policy = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Transitions:
    """A batch of send experiences.

    `next_states` is None for one-step episodes (a known-truth environment's sends): the
    transition is terminal and the Q target is the reward alone. Logged sends carry the state of
    the client's next send (`terminal` True where there is none to come: the client left).
    `expected_rewards` is the true expected reward of each taken action when the source knows it
    (a known-truth environment), None for logs; it only feeds the learning curve, never the
    learning. `model_rewards` (n, 168), a reward model's estimate at every hour, and `weights`, the
    logged hour's importance weight, make the learner use doubly robust targets (`dqn`).
    """

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    expected_rewards: np.ndarray | None = None
    next_states: np.ndarray | None = None
    terminal: np.ndarray | None = None
    model_rewards: np.ndarray | None = None
    weights: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.actions)


class TransitionSource(Protocol):
    """Anything the DQN can learn from: hands out batches of send transitions."""

    @property
    def state_dim(self) -> int: ...

    @property
    def n_actions(self) -> int: ...

    def transitions(self, policy: Policy, batch_size: int) -> Transitions:
        """A batch of transitions; on-policy sources act with `policy`, logs ignore it."""
        ...


def reward_of(opened: np.ndarray, clicked: np.ndarray, click_weight: float) -> np.ndarray:
    """The optimizer's reward for one send: an open plus `click_weight` times a click."""
    return np.asarray(opened, dtype=np.float64) + click_weight * np.asarray(
        clicked, dtype=np.float64
    )


def _as_states(states: np.ndarray) -> np.ndarray:
    states = np.asarray(states, dtype=np.float32)
    if states.ndim != 2:
        raise ValueError(f"states must be a 2-d array (clients × features), got {states.shape}")
    return states


def _check_hours(hours: np.ndarray, n_actions: int) -> np.ndarray:
    hours = np.asarray(hours, dtype=np.int64)
    if hours.size and (hours.min() < 0 or hours.max() >= n_actions):
        raise ValueError(f"hours of week must lie in [0, {n_actions})")
    return hours


class SendTimeEnvironment:
    """A known-truth send-time world: client states plus true open/click probability per hour.

    `open_probability` gives P(open | sent at hour h) for every client and hour of the week;
    `click_probability` (optional, zero when omitted) gives the unconditional P(click | sent at h)
    and must not exceed the open probability, because a click implies an open. A send's outcome is
    drawn as open ~ Bernoulli(p_open), click ~ open × Bernoulli(p_click / p_open), so the expected
    click rate is exactly p_click. Reward = open + click_weight × click.

    `training_clients` restricts the clients `transitions` samples from, so held-out clients can
    be kept for `policies.evaluate_policies`.

    `sample_rewards=False` makes `transitions` hand out each send's expected reward instead of a
    drawn outcome. That suits an environment whose probabilities are themselves a model's
    estimates (`open_model.learned_environment`): drawing a 0/1 outcome from a known probability
    only adds noise for the learner to average away.
    """

    def __init__(
        self,
        states: np.ndarray,
        open_probability: ProbabilityTable,
        click_probability: ProbabilityTable | None = None,
        *,
        click_weight: float = 1.0,
        training_clients: np.ndarray | None = None,
        sample_rewards: bool = True,
        seed: int | np.random.Generator = 0,
    ) -> None:
        self.states = _as_states(states)
        self._open_probability = open_probability
        self._click_probability = click_probability
        self.click_weight = float(click_weight)
        self.training_clients = (
            np.arange(self.n_clients)
            if training_clients is None
            else np.asarray(training_clients, dtype=np.int64)
        )
        self.sample_rewards = sample_rewards
        self._rng = np.random.default_rng(seed)
        self._current_clients: np.ndarray | None = None

    @property
    def state_dim(self) -> int:
        return self.states.shape[1]

    @property
    def n_actions(self) -> int:
        return HOURS_PER_WEEK

    @property
    def n_clients(self) -> int:
        return self.states.shape[0]

    def open_probabilities(self, clients: np.ndarray) -> np.ndarray:
        """(len(clients), 168) true open probability of each client at each hour of the week."""
        return self._lookup(self._open_probability, clients)

    def click_probabilities(self, clients: np.ndarray) -> np.ndarray:
        """(len(clients), 168) true click probability; zeros when the world has no clicks."""
        clients = np.asarray(clients, dtype=np.int64)
        if self._click_probability is None:
            return np.zeros((len(clients), HOURS_PER_WEEK))
        clicks = self._lookup(self._click_probability, clients)
        if np.any(clicks > self.open_probabilities(clients) + 1e-12):
            raise ValueError("click probability exceeds open probability: a click implies an open")
        return clicks

    def expected_rewards(self, clients: np.ndarray) -> np.ndarray:
        """(len(clients), 168) true expected reward of sending to each client at each hour."""
        return self.open_probabilities(clients) + self.click_weight * self.click_probabilities(
            clients
        )

    def reset(self, clients: np.ndarray | int) -> np.ndarray:
        """Start one-step episodes for the given client indices (or that many sampled training
        clients) and return their states."""
        if isinstance(clients, int | np.integer):
            clients = self._rng.choice(self.training_clients, size=int(clients), replace=True)
        self._current_clients = np.asarray(clients, dtype=np.int64)
        return self.states[self._current_clients]

    def step(self, actions: np.ndarray) -> np.ndarray:
        """Send to the clients of the last `reset` at the chosen hours; return sampled rewards."""
        if self._current_clients is None:
            raise RuntimeError("call reset() before step(): every send is a new one-step episode")
        clients, self._current_clients = self._current_clients, None
        hours = _check_hours(actions, self.n_actions)
        if len(hours) != len(clients):
            raise ValueError(f"{len(hours)} actions for {len(clients)} clients")
        rows = np.arange(len(clients))
        p_open = self.open_probabilities(clients)[rows, hours]
        p_click = self.click_probabilities(clients)[rows, hours]
        opened = self._rng.random(len(clients)) < p_open
        click_given_open = np.divide(p_click, p_open, out=np.zeros_like(p_click), where=p_open > 0)
        clicked = opened & (self._rng.random(len(clients)) < click_given_open)
        return reward_of(opened, clicked, self.click_weight)

    def transitions(self, policy: Policy, batch_size: int) -> Transitions:
        """Sample training clients, act with `policy`, and return the resulting transitions
        (rewards drawn, or expected when the environment does not sample them)."""
        states = self.reset(batch_size)
        clients = self._current_clients
        actions = _check_hours(policy(states), self.n_actions)
        expected = self.expected_rewards(clients)[np.arange(len(clients)), actions]
        if self.sample_rewards:
            rewards = self.step(actions)
        else:
            self._current_clients, rewards = None, expected
        return Transitions(states, actions, rewards, expected_rewards=expected)

    def _lookup(self, table: ProbabilityTable, clients: np.ndarray) -> np.ndarray:
        clients = np.asarray(clients, dtype=np.int64)
        rows = table(clients) if callable(table) else np.asarray(table)[clients]
        rows = np.asarray(rows, dtype=np.float64)
        if rows.shape != (len(clients), HOURS_PER_WEEK):
            raise ValueError(f"probabilities must be (clients, {HOURS_PER_WEEK}), got {rows.shape}")
        if np.any((rows < 0) | (rows > 1)):
            raise ValueError("probabilities must lie in [0, 1]")
        return rows


@dataclass(frozen=True)
class OffPolicyEstimate:
    """A target policy's open/click rate estimated from logs it did not choose.

    `replay_*` is the self-normalised estimate over matched rows (where the target policy picks
    the logged hour), each weighted by 1 / logging propensity; with a uniform logging policy it is
    exactly the rejection-replay estimate (Li et al. 2011): the mean outcome of the matched rows.
    `ips_*` is plain inverse propensity scoring, unbiased but noisier. `n_matched` says how many
    logged rows carried the estimate (about n_logged / 168 under uniform logging).
    """

    replay_open_rate: float
    replay_click_rate: float
    ips_open_rate: float
    ips_click_rate: float
    n_matched: int
    n_logged: int


class LoggedSendsReplay:
    """Logged sends as a source of off-policy transitions and of policy value estimates.

    Rows are (client state, hour of week sent, opened, clicked) with the probability the logging
    policy had of choosing that hour (`propensities`; uniform 1/168 when omitted). As a source it
    hands out one-step transitions of the logged hours (`transitions` ignores the policy it is
    given); the product learns from `off_policy.LoggedTransitionSource` instead.
    """

    def __init__(
        self,
        states: np.ndarray,
        hours: np.ndarray,
        opened: np.ndarray,
        clicked: np.ndarray,
        *,
        propensities: np.ndarray | None = None,
        click_weight: float = 1.0,
        seed: int | np.random.Generator = 0,
    ) -> None:
        self.states = _as_states(states)
        self.hours = _check_hours(hours, HOURS_PER_WEEK)
        self.opened = np.asarray(opened, dtype=np.float64)
        self.clicked = np.asarray(clicked, dtype=np.float64)
        self.propensities = (
            np.full(len(self.hours), 1.0 / HOURS_PER_WEEK)
            if propensities is None
            else np.asarray(propensities, dtype=np.float64)
        )
        lengths = {len(self.states), len(self.hours), len(self.opened), len(self.clicked)}
        if len(lengths | {len(self.propensities)}) != 1:
            raise ValueError("states, hours, opened, clicked and propensities differ in length")
        if np.any(self.propensities <= 0):
            raise ValueError("logging propensities must be positive")
        self.click_weight = float(click_weight)
        self.rewards = reward_of(self.opened, self.clicked, self.click_weight)
        self._rng = np.random.default_rng(seed)

    @property
    def state_dim(self) -> int:
        return self.states.shape[1]

    @property
    def n_actions(self) -> int:
        return HOURS_PER_WEEK

    def __len__(self) -> int:
        return len(self.hours)

    def transitions(self, policy: Policy, batch_size: int) -> Transitions:
        """A random batch (with replacement) of logged transitions; `policy` is not consulted."""
        rows = self._rng.integers(0, len(self), size=batch_size)
        return Transitions(self.states[rows], self.hours[rows], self.rewards[rows])

    def estimate(self, target_hours: np.ndarray) -> OffPolicyEstimate:
        """Estimate the open and click rate of a deterministic policy that would send logged row
        i at `target_hours[i]` (e.g. `agent.best_hours(replay.states)`)."""
        target_hours = _check_hours(target_hours, HOURS_PER_WEEK)
        if len(target_hours) != len(self):
            raise ValueError("one target hour per logged row is needed")
        weights = (target_hours == self.hours) / self.propensities
        matched = int(np.count_nonzero(weights))

        def self_normalised(outcome: np.ndarray) -> float:
            return float(weights @ outcome / weights.sum()) if matched else float("nan")

        return OffPolicyEstimate(
            replay_open_rate=self_normalised(self.opened),
            replay_click_rate=self_normalised(self.clicked),
            ips_open_rate=float(weights @ self.opened / len(self)),
            ips_click_rate=float(weights @ self.clicked / len(self)),
            n_matched=matched,
            n_logged=len(self),
        )
