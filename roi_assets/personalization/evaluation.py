"""How good is the content bandit? Simulation against known CTRs, and replay on logged sends.

`simulate_policies` runs Thompson sampling, uniform random and ε-greedy on the same stream of
segment arrivals and the same coin flips (common random numbers: the click of variant v in round t
is the same uniform draw for every policy), so differences between policies are not luck of the
draw. Regret and CTR are computed from the TRUE click-through rates of the chosen variants
(pseudo-regret), so they measure the choices rather than the Bernoulli noise of the clicks.

`replay_estimate` is the offline estimate a production system can make without a simulator:
Li et al. (2011) rejection replay on sends whose variant was chosen uniformly at random.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from roi_assets.personalization.bandit import ThompsonSampler

THOMPSON = "thompson_sampling"
UNIFORM_RANDOM = "uniform_random"
EPSILON_GREEDY = "epsilon_greedy"
ORACLE = "oracle"


class BanditPolicy(Protocol):
    """What the harness needs from a policy: batched selection and batched feedback."""

    def select_many(self, contexts: Sequence[str], rng: np.random.Generator) -> np.ndarray: ...

    def update_many(
        self,
        contexts: Sequence[str],
        arms: Sequence[str],
        rewards: Sequence[float] | np.ndarray,
        feedback_ids: Sequence[str] | None = None,
    ) -> int: ...


class UniformRandomPolicy:
    """Picks a variant uniformly at random and learns nothing: the floor."""

    def __init__(self, arms: Sequence[str]) -> None:
        self.arms = np.asarray(arms, dtype=object)

    def select_many(self, contexts: Sequence[str], rng: np.random.Generator) -> np.ndarray:
        return self.arms[rng.integers(0, len(self.arms), size=len(contexts))]

    def update_many(
        self,
        contexts: Sequence[str],
        arms: Sequence[str],
        rewards: Sequence[float] | np.ndarray,
        feedback_ids: Sequence[str] | None = None,
    ) -> int:
        return 0


class EpsilonGreedyPolicy:
    """With probability ε a random variant, else the best observed CTR in the segment.

    Variants never tried in a segment are tried first; ties are broken at random.
    """

    def __init__(self, contexts: Sequence[str], arms: Sequence[str], epsilon: float = 0.1) -> None:
        self.contexts = tuple(contexts)
        self.arms = np.asarray(arms, dtype=object)
        self.epsilon = epsilon
        self._context_index = {context: i for i, context in enumerate(self.contexts)}
        self._arm_index = {arm: i for i, arm in enumerate(arms)}
        self.pulls = np.zeros((len(self.contexts), len(self.arms)))
        self.successes = np.zeros_like(self.pulls)

    def select_many(self, contexts: Sequence[str], rng: np.random.Generator) -> np.ndarray:
        rows = np.fromiter((self._context_index[c] for c in contexts), dtype=np.int64)
        pulls = self.pulls[rows]
        means = np.divide(
            self.successes[rows], pulls, out=np.full(pulls.shape, np.inf), where=pulls > 0
        )
        # Random tie-breaking: a uniform jitter far below any difference of observed CTRs.
        greedy = (means + 1e-12 * rng.random(means.shape)).argmax(axis=1)
        explore = rng.random(len(rows)) < self.epsilon
        greedy[explore] = rng.integers(0, len(self.arms), size=int(explore.sum()))
        return self.arms[greedy]

    def update_many(
        self,
        contexts: Sequence[str],
        arms: Sequence[str],
        rewards: Sequence[float] | np.ndarray,
        feedback_ids: Sequence[str] | None = None,
    ) -> int:
        rows = np.fromiter((self._context_index[c] for c in contexts), dtype=np.int64)
        columns = np.fromiter((self._arm_index[a] for a in arms), dtype=np.int64)
        np.add.at(self.pulls, (rows, columns), 1.0)
        np.add.at(self.successes, (rows, columns), np.asarray(rewards, dtype=np.float64))
        return len(rows)


@dataclass(frozen=True)
class BanditSimulation:
    """Result of `simulate_policies`.

    `summary`: one row per (family, policy) plus family "all" (CTR averaged over families, regret
    summed): expected CTR, cumulative regret against the per-segment oracle, and CTR uplift in %
    over uniform random and over ε-greedy. `regret_curves`: cumulative regret after every round,
    per family and policy, for plotting.
    """

    summary: pd.DataFrame
    regret_curves: pd.DataFrame


def ctr_matrix(
    true_ctr: pd.DataFrame, family: str, segments: Sequence[str], variants: Sequence[str]
) -> np.ndarray:
    """(segments, variants) true CTR of one family from a (segment, family, variant, ctr) table."""
    table = true_ctr[true_ctr["family"] == family].pivot(
        index="segment", columns="variant", values="ctr"
    )
    matrix = table.reindex(index=list(segments), columns=list(variants))
    if matrix.isna().to_numpy().any():
        raise ValueError(f"true CTR table misses (segment, variant) pairs of family {family!r}")
    return matrix.to_numpy(dtype=np.float64)


def _uplift_pct(value: float, reference: float) -> float:
    return 100.0 * (value / reference - 1.0) if reference > 0 else float("nan")


def _run_policy(
    policy: BanditPolicy,
    segments: np.ndarray,
    arrivals: np.ndarray,
    ctr: np.ndarray,
    coins: np.ndarray,
    arm_index: Mapping[str, int],
    batch_size: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Expected CTR of the variant chosen in each round."""
    chosen_ctr = np.empty(len(arrivals))
    for start in range(0, len(arrivals), batch_size):
        rounds = np.arange(start, min(start + batch_size, len(arrivals)))
        contexts = segments[arrivals[rounds]]
        arms = policy.select_many(contexts, rng)
        columns = np.fromiter((arm_index[arm] for arm in arms), dtype=np.int64)
        probability = ctr[arrivals[rounds], columns]
        clicks = (coins[rounds, columns] < probability).astype(np.float64)
        policy.update_many(contexts, arms, clicks)
        chosen_ctr[rounds] = probability
    return chosen_ctr


def simulate_policies(
    true_ctr: pd.DataFrame,
    rounds: int,
    seed: int,
    *,
    segment_weights: Mapping[str, float] | None = None,
    batch_size: int = 1,
    epsilon: float = 0.1,
) -> BanditSimulation:
    """Thompson sampling vs uniform random vs ε-greedy on `rounds` sends per variant family.

    `true_ctr` holds the true click-through rate per (segment, family, variant). Segments arrive
    with `segment_weights` (uniform when omitted). Families are simulated independently: each
    send's click for a family is drawn from that family's CTR, the way the truth table is keyed.
    Policies decide `batch_size` sends at a time from the posterior as of the batch start
    (1 = textbook sequential bandit; larger batches mimic a daily-updated production bandit).
    """
    segments = np.asarray(list(dict.fromkeys(true_ctr["segment"])), dtype=object)
    weights = np.asarray(
        [1.0 if segment_weights is None else segment_weights[s] for s in segments],
        dtype=np.float64,
    )
    seeds = np.random.SeedSequence(seed)
    arrival_rng, *family_seeds = seeds.spawn(1 + true_ctr["family"].nunique())
    arrivals = np.random.default_rng(arrival_rng).choice(
        len(segments), size=rounds, p=weights / weights.sum()
    )
    rows, curves = [], []
    for family_seed, family in zip(family_seeds, dict.fromkeys(true_ctr["family"]), strict=True):
        variants = list(dict.fromkeys(true_ctr.loc[true_ctr["family"] == family, "variant"]))
        ctr = ctr_matrix(true_ctr, family, segments, variants)
        best = ctr.max(axis=1)[arrivals]
        coin_seed, *policy_seeds = family_seed.spawn(4)
        coins = np.random.default_rng(coin_seed).random((rounds, len(variants)))
        policies: dict[str, BanditPolicy] = {
            THOMPSON: ThompsonSampler(list(segments), variants),
            UNIFORM_RANDOM: UniformRandomPolicy(variants),
            EPSILON_GREEDY: EpsilonGreedyPolicy(list(segments), variants, epsilon),
        }
        arm_index = {variant: i for i, variant in enumerate(variants)}
        chosen = {
            name: _run_policy(
                policy,
                segments,
                arrivals,
                ctr,
                coins,
                arm_index,
                batch_size,
                np.random.default_rng(policy_seed),
            )
            for (name, policy), policy_seed in zip(policies.items(), policy_seeds, strict=True)
        }
        chosen[ORACLE] = best
        for name, chosen_ctr in chosen.items():
            regret = np.cumsum(best - chosen_ctr)
            rows.append((family, name, float(chosen_ctr.mean()), float(regret[-1])))
            curves.append(
                pd.DataFrame(
                    {
                        "family": family,
                        "policy": name,
                        "round": np.arange(1, rounds + 1),
                        "cumulative_regret": regret,
                    }
                )
            )
    summary = pd.DataFrame(rows, columns=["family", "policy", "ctr", "cumulative_regret"])
    overall = summary.groupby("policy", sort=False).agg(
        ctr=("ctr", "mean"), cumulative_regret=("cumulative_regret", "sum")
    )
    summary = pd.concat([summary, overall.reset_index().assign(family="all")], ignore_index=True)
    reference = summary.set_index(["family", "policy"])["ctr"]
    summary["uplift_vs_uniform_random_pct"] = [
        _uplift_pct(row.ctr, reference[(row.family, UNIFORM_RANDOM)])
        for row in summary.itertuples()
    ]
    summary["uplift_vs_epsilon_greedy_pct"] = [
        _uplift_pct(row.ctr, reference[(row.family, EPSILON_GREEDY)])
        for row in summary.itertuples()
    ]
    return BanditSimulation(summary, pd.concat(curves, ignore_index=True))


@dataclass(frozen=True)
class ReplayEstimate:
    """Replay estimate of a policy's CTR and how many logged sends it rests on."""

    ctr: float
    n_accepted: int
    n_logged: int


def replay_estimate(
    policy: BanditPolicy,
    contexts: Sequence[str],
    arms: Sequence[str],
    rewards: Sequence[float] | np.ndarray,
    rng: np.random.Generator,
) -> ReplayEstimate:
    """Li et al. (2011) rejection replay of `policy` on logged sends in time order.

    For each logged send the policy picks a variant for its segment; if that is the logged variant
    the send is accepted, its click counts towards the estimate and is fed back to the policy,
    otherwise it is skipped. The estimate is unbiased when the logging policy chose variants
    uniformly at random (then about 1/n_variants of the sends are accepted). The policy is copied
    first, so the caller's instance is left untouched.
    """
    replayed = copy.deepcopy(policy)
    rewards = np.asarray(rewards, dtype=np.float64)
    if isinstance(replayed, ThompsonSampler):  # its own loop: the same draws, faster
        accepted_rewards = replayed.replay(contexts, arms, rewards, rng)
    else:
        accepted_rewards = []
        for context, arm, reward in zip(contexts, arms, rewards, strict=True):
            if replayed.select_many([context], rng)[0] == arm:
                replayed.update_many([context], [arm], [reward])
                accepted_rewards.append(reward)
    ctr = float(np.mean(accepted_rewards)) if accepted_rewards else float("nan")
    return ReplayEstimate(ctr=ctr, n_accepted=len(accepted_rewards), n_logged=len(rewards))
