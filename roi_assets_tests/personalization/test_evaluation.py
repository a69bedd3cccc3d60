import numpy as np
import pandas as pd
import pytest

from roi_assets.personalization.bandit import ThompsonSampler
from roi_assets.personalization.evaluation import (
    EPSILON_GREEDY,
    ORACLE,
    THOMPSON,
    UNIFORM_RANDOM,
    EpsilonGreedyPolicy,
    ctr_matrix,
    replay_estimate,
    simulate_policies,
)


def true_ctr_table() -> pd.DataFrame:
    """Two segments that disagree on the best variant, in two families."""
    ctr = {
        ("buyer_under_250k", "subject_line"): [0.02, 0.03, 0.08],
        ("seller_over_1m", "subject_line"): [0.09, 0.03, 0.02],
        ("buyer_under_250k", "cta_style"): [0.04, 0.06],
        ("seller_over_1m", "cta_style"): [0.06, 0.03],
    }
    variants = {
        "subject_line": ["professional_formal", "friendly_casual", "urgent_action"],
        "cta_style": ["button_prominent", "text_link"],
    }
    return pd.DataFrame(
        [
            (segment, family, variant, rate)
            for (segment, family), rates in ctr.items()
            for variant, rate in zip(variants[family], rates, strict=True)
        ],
        columns=["segment", "family", "variant", "ctr"],
    )


class FixedVariant:
    """A policy that always sends the same variant and learns nothing."""

    def __init__(self, arm: str) -> None:
        self.arm = arm

    def select_many(self, contexts, rng):
        return np.asarray([self.arm] * len(contexts), dtype=object)

    def update_many(self, contexts, arms, rewards, feedback_ids=None):
        return 0


def uniformly_logged_sends(n: int, ctr: dict[str, float], seed: int):
    rng = np.random.default_rng(seed)
    arms = np.asarray(list(ctr), dtype=object)[rng.integers(0, len(ctr), n)]
    rewards = rng.random(n) < np.array([ctr[a] for a in arms])
    return ["everyone"] * n, arms, rewards.astype(float)


def test_thompson_sampling_has_lower_regret_than_uniform_random_in_a_seeded_simulation():
    result = simulate_policies(true_ctr_table(), rounds=4_000, seed=1, batch_size=20)
    summary = result.summary.set_index(["family", "policy"])
    for family in ("subject_line", "cta_style", "all"):
        thompson = summary.loc[(family, THOMPSON)]
        random = summary.loc[(family, UNIFORM_RANDOM)]
        assert thompson["cumulative_regret"] < 0.6 * random["cumulative_regret"]
        assert thompson["uplift_vs_uniform_random_pct"] > 10.0
    assert summary.loc[("all", ORACLE), "cumulative_regret"] == 0.0
    assert summary.loc[("all", UNIFORM_RANDOM), "uplift_vs_uniform_random_pct"] == 0.0
    assert summary.loc[("all", EPSILON_GREEDY), "uplift_vs_epsilon_greedy_pct"] == 0.0


def test_the_simulation_is_reproducible_and_its_regret_curves_end_at_the_summary():
    first = simulate_policies(true_ctr_table(), rounds=500, seed=4, batch_size=10)
    second = simulate_policies(true_ctr_table(), rounds=500, seed=4, batch_size=10)
    pd.testing.assert_frame_equal(first.summary, second.summary)
    last = first.regret_curves.query("round == 500").set_index(["family", "policy"])
    summary = first.summary.set_index(["family", "policy"])
    for key, row in last.iterrows():
        assert row["cumulative_regret"] == pytest.approx(summary.loc[key, "cumulative_regret"])


def test_the_uniform_random_ctr_is_close_to_the_mean_true_ctr():
    result = simulate_policies(true_ctr_table(), rounds=6_000, seed=2, batch_size=100)
    summary = result.summary.set_index(["family", "policy"])
    assert summary.loc[("subject_line", UNIFORM_RANDOM), "ctr"] == pytest.approx(
        (0.13 + 0.14) / 6, rel=0.05
    )


def test_the_ctr_matrix_refuses_a_table_with_missing_pairs():
    table = true_ctr_table().iloc[1:]
    with pytest.raises(ValueError, match="subject_line"):
        ctr_matrix(
            table,
            "subject_line",
            ["buyer_under_250k", "seller_over_1m"],
            ["professional_formal", "friendly_casual", "urgent_action"],
        )


def test_epsilon_greedy_tries_every_variant_before_exploiting():
    policy = EpsilonGreedyPolicy(["s"], ["a", "b", "c"], epsilon=0.0)
    rng = np.random.default_rng(0)
    tried = []
    for _ in range(3):
        arm = policy.select_many(["s"], rng)[0]
        policy.update_many(["s"], [arm], [1.0 if arm == "b" else 0.0])
        tried.append(arm)
    assert sorted(tried) == ["a", "b", "c"]
    assert set(policy.select_many(["s"] * 20, rng)) == {"b"}


def test_replay_of_a_fixed_variant_on_uniformly_logged_sends_recovers_its_true_ctr():
    ctr = {"a": 0.04, "b": 0.12, "c": 0.08}
    contexts, arms, rewards = uniformly_logged_sends(30_000, ctr, seed=3)
    estimate = replay_estimate(FixedVariant("b"), contexts, arms, rewards, np.random.default_rng(0))
    assert estimate.n_logged == 30_000
    assert estimate.n_accepted == pytest.approx(10_000, rel=0.05)
    assert estimate.ctr == pytest.approx(0.12, abs=0.012)


def test_replay_of_thompson_sampling_leaves_the_callers_sampler_untouched():
    ctr = {"a": 0.04, "b": 0.12}
    contexts, arms, rewards = uniformly_logged_sends(3_000, ctr, seed=5)
    sampler = ThompsonSampler(["everyone"], ["a", "b"])
    estimate = replay_estimate(sampler, contexts, arms, rewards, np.random.default_rng(0))
    assert (sampler.alpha == 1).all() and (sampler.beta == 1).all()
    assert 0.04 < estimate.ctr <= 0.13
    assert 0 < estimate.n_accepted < 3_000


def test_thompson_samplings_own_replay_draws_as_selecting_and_updating_row_by_row_would():
    ctr = {"a": 0.04, "b": 0.12, "c": 0.08, "d": 0.10}
    contexts, arms, rewards = uniformly_logged_sends(4_000, ctr, seed=7)
    contexts = [f"segment {i % 3}" for i in range(len(contexts))]
    fast = ThompsonSampler(["segment 0", "segment 1", "segment 2"], list(ctr))
    slow = ThompsonSampler(["segment 0", "segment 1", "segment 2"], list(ctr))
    fast_rng, slow_rng = np.random.default_rng(11), np.random.default_rng(11)

    accepted = fast.replay(contexts, arms, rewards, fast_rng)
    expected = []
    for context, arm, reward in zip(contexts, arms, rewards, strict=True):
        if slow.select_many([context], slow_rng)[0] == arm:
            slow.update_many([context], [arm], [reward])
            expected.append(reward)

    assert accepted == expected
    assert np.array_equal(fast.alpha, slow.alpha) and np.array_equal(fast.beta, slow.beta)
    assert np.array_equal(fast.n_updates, slow.n_updates)
    assert fast_rng.random() == slow_rng.random()  # the generators stand at the same draw
