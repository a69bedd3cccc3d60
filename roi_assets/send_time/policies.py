"""Send-time baselines and their exact evaluation against the true probabilities.

A policy here returns, for each client, a probability distribution over the 168 hours of the week
(one-hot for deterministic policies). `evaluate_policies` multiplies those distributions with the
environment's TRUE open and click probabilities, so every figure is an expectation rather than a
sample: the same inputs always give the same table, and a uniformly random hour is scored exactly
(the mean of a client's 168 probabilities), not by drawing hours.

Baselines the DQN must be compared with (DESIGN.md section 5): a random hour, the client's
historically best hour from logged opens, and the oracle's best hour.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np
import pandas as pd

from roi_assets.send_time.dqn import DQNAgent
from roi_assets.send_time.environment import HOURS_PER_WEEK, SendTimeEnvironment


class SendTimePolicy(Protocol):
    """Maps clients (indices into the environment) and their states to hour distributions."""

    def action_probabilities(self, states: np.ndarray, clients: np.ndarray) -> np.ndarray:
        """(len(clients), 168) probability of sending each client at each hour; rows sum to 1."""
        ...


def one_hot_hours(hours: np.ndarray) -> np.ndarray:
    """Distributions of a deterministic policy: all mass on the chosen hour."""
    hours = np.asarray(hours, dtype=np.int64)
    distribution = np.zeros((len(hours), HOURS_PER_WEEK))
    distribution[np.arange(len(hours)), hours] = 1.0
    return distribution


class UniformRandomPolicy:
    """Sends at an hour drawn uniformly from the week: the floor every policy must clear."""

    def action_probabilities(self, states: np.ndarray, clients: np.ndarray) -> np.ndarray:
        return np.full((len(clients), HOURS_PER_WEEK), 1.0 / HOURS_PER_WEEK)


class HistoricalBestHourPolicy:
    """Sends at the hour where the client's logged open rate, shrunk towards the population's
    open rate at that hour, is highest.

    Two levels of shrinkage, in pseudo-sends: the population's rate at an hour is shrunk towards
    the overall open rate with strength M (`population_prior_strength`), and the client's rate at
    an hour towards that population rate with strength m (`prior_strength`):

        population(h) = (opens(h) + M · overall) / (sends(h) + M)
        smoothed(c, h) = (opens(c, h) + m · population(h)) / (sends(c, h) + m)

    Without them a single lucky open at a rarely used hour would win; with them, hours a client
    was never sent at fall back to the population curve, and a client without logs gets the
    population's best hour.
    """

    def __init__(
        self, smoothed_open_rate: np.ndarray, population_open_rate: np.ndarray | None = None
    ) -> None:
        self.smoothed_open_rate = np.asarray(smoothed_open_rate, dtype=np.float64)
        self.best_hour = self.smoothed_open_rate.argmax(axis=1)
        self.population_open_rate = population_open_rate

    @classmethod
    def from_logs(
        cls,
        clients: np.ndarray,
        hours: np.ndarray,
        opened: np.ndarray,
        n_clients: int,
        prior_strength: float = 2.0,
        population_prior_strength: float = 20.0,
    ) -> HistoricalBestHourPolicy:
        """Build from logged sends: client index, hour of week (local) and whether it was opened."""
        if prior_strength <= 0 or population_prior_strength <= 0:
            raise ValueError("prior strengths must be positive (they are pseudo-sends)")
        clients = np.asarray(clients, dtype=np.int64)
        hours = np.asarray(hours, dtype=np.int64)
        opened = np.asarray(opened, dtype=np.float64)
        sends = np.zeros((n_clients, HOURS_PER_WEEK))
        opens = np.zeros((n_clients, HOURS_PER_WEEK))
        np.add.at(sends, (clients, hours), 1.0)
        np.add.at(opens, (clients, hours), opened)
        overall_rate = opens.sum() / max(1.0, sends.sum())
        population_rate = (opens.sum(axis=0) + population_prior_strength * overall_rate) / (
            sends.sum(axis=0) + population_prior_strength
        )
        smoothed = (opens + prior_strength * population_rate) / (sends + prior_strength)
        return cls(smoothed, population_rate)

    def action_probabilities(self, states: np.ndarray, clients: np.ndarray) -> np.ndarray:
        return one_hot_hours(self.best_hour[np.asarray(clients, dtype=np.int64)])


def population_best_hour(hours: np.ndarray, opened: np.ndarray) -> int:
    """The hour of week with the best (shrunk) open rate over all logged sends: the one hour a
    product without personalization sends everyone at."""
    logs = HistoricalBestHourPolicy.from_logs(np.zeros(len(hours)), hours, opened, n_clients=1)
    return PopulationBestHourPolicy(logs.population_open_rate).best_hour


class PopulationBestHourPolicy:
    """Sends every client at the one hour with the best population open rate in the logs (the
    historical baseline's shrunk population curve): what a product without personalization does."""

    def __init__(self, population_open_rate: np.ndarray) -> None:
        self.best_hour = int(np.argmax(population_open_rate))

    def action_probabilities(self, states: np.ndarray, clients: np.ndarray) -> np.ndarray:
        return one_hot_hours(np.full(len(clients), self.best_hour))


class OracleBestHourPolicy:
    """Sends at each client's truly best hour (highest expected reward): the ceiling."""

    def __init__(self, environment: SendTimeEnvironment) -> None:
        self.environment = environment

    def action_probabilities(self, states: np.ndarray, clients: np.ndarray) -> np.ndarray:
        return one_hot_hours(self.environment.expected_rewards(clients).argmax(axis=1))


class DQNGreedyPolicy:
    """A trained DQN acting greedily (no exploration), as it does when recommending hours."""

    def __init__(self, agent: DQNAgent) -> None:
        self.agent = agent

    def action_probabilities(self, states: np.ndarray, clients: np.ndarray) -> np.ndarray:
        return one_hot_hours(self.agent.best_hours(states))


class RecommendedHoursPolicy:
    """Sends each client at an hour decided beforehand, e.g. what a training checkpoint would
    have recommended; `hours` is indexed like the environment's clients."""

    def __init__(self, hours: np.ndarray) -> None:
        self.hours = np.asarray(hours, dtype=np.int64)

    def action_probabilities(self, states: np.ndarray, clients: np.ndarray) -> np.ndarray:
        return one_hot_hours(self.hours[np.asarray(clients, dtype=np.int64)])


def _uplift_pct(value: float, reference: float) -> float:
    return 100.0 * (value / reference - 1.0) if reference > 0 else float("nan")


def evaluate_policies(
    environment: SendTimeEnvironment,
    clients: np.ndarray,
    policies: Mapping[str, SendTimePolicy],
) -> pd.DataFrame:
    """Expected open rate, click rate and reward of each policy on `clients` (e.g. held out),
    from the true probabilities, with the improvement over a uniformly random hour in %.

    The random reference is computed exactly whether or not a random policy is in `policies`.
    Click uplift is NaN in a world without clicks.
    """
    clients = np.asarray(clients, dtype=np.int64)
    states = environment.states[clients]
    open_probability = environment.open_probabilities(clients)
    click_probability = environment.click_probabilities(clients)
    random_open = float(open_probability.mean())
    random_click = float(click_probability.mean())
    rows = []
    for name, policy in policies.items():
        distribution = policy.action_probabilities(states, clients)
        if distribution.shape != open_probability.shape or not np.allclose(
            distribution.sum(axis=1), 1.0
        ):
            raise ValueError(f"policy {name!r} must return one distribution over hours per client")
        open_rate = float((distribution * open_probability).sum(axis=1).mean())
        click_rate = float((distribution * click_probability).sum(axis=1).mean())
        rows.append(
            {
                "policy": name,
                "expected_open_rate": open_rate,
                "expected_click_rate": click_rate,
                "expected_reward": open_rate + environment.click_weight * click_rate,
                "open_uplift_vs_random_pct": _uplift_pct(open_rate, random_open),
                "click_uplift_vs_random_pct": _uplift_pct(click_rate, random_click),
                "n_clients": len(clients),
            }
        )
    return pd.DataFrame(rows)
