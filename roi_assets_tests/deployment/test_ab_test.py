"""The A/B verdict: a significant AND large enough lift promotes; anything less does not."""

from __future__ import annotations

import polars as pl
import pytest

from roi_assets.deployment.ab_test import HOLD, PROMOTE, REJECT, ABTestConfig, decide_ab_test


def outcomes(n_champion: int, engaged_champion: int, n_challenger: int, engaged_challenger: int):
    def arm(name: str, n: int, engaged: int) -> pl.DataFrame:
        return pl.DataFrame(
            {"arm": [name] * n, "engaged": [True] * engaged + [False] * (n - engaged)}
        )

    return pl.concat(
        [
            arm("champion", n_champion, engaged_champion),
            arm("challenger", n_challenger, engaged_challenger),
        ]
    )


def test_a_significant_lift_above_five_percent_promotes():
    # 30 % vs 25 % on 4,000 / 1,000 outcomes: +20 % relative, one-sided p ≈ 0.0006
    result = decide_ab_test(outcomes(4_000, 1_000, 1_000, 300), days_elapsed=7)
    assert result.decision == PROMOTE
    assert result.rate_champion == pytest.approx(0.25)
    assert result.rate_challenger == pytest.approx(0.30)
    assert result.relative_lift == pytest.approx(0.20)
    assert result.p_value < 0.01
    assert "challenger wins" in result.reason


def test_a_large_lift_that_is_not_significant_is_rejected():
    # +20 % relative again, but on 150 outcomes per arm the difference is noise (p ≈ 0.2)
    result = decide_ab_test(outcomes(150, 30, 150, 36), days_elapsed=7)
    assert result.relative_lift == pytest.approx(0.20)
    assert result.p_value > 0.05
    assert result.decision == REJECT
    assert "not significant" in result.reason


def test_a_significant_lift_below_five_percent_is_rejected():
    # 26 % vs 25 % on 400,000 outcomes: certainly real (p ≈ 2e-13), but only +4 % relative
    result = decide_ab_test(outcomes(200_000, 50_000, 200_000, 52_000), days_elapsed=7)
    assert result.p_value < 1e-6
    assert result.relative_lift == pytest.approx(0.04)
    assert result.decision == REJECT
    assert "lift below +5%" in result.reason


def test_a_challenger_worse_than_the_champion_is_rejected():
    result = decide_ab_test(outcomes(4_000, 1_200, 1_000, 250), days_elapsed=7)
    assert result.p_value > 0.5
    assert result.decision == REJECT


def test_the_test_holds_until_its_planned_duration_even_on_strong_evidence():
    result = decide_ab_test(outcomes(4_000, 1_000, 1_000, 300), days_elapsed=6)
    assert result.decision == HOLD
    assert "day 6 of 7" in result.reason


def test_the_test_holds_with_too_few_outcomes_then_rejects_at_its_maximum_duration():
    few = outcomes(200, 40, 50, 30)
    config = ABTestConfig(min_outcomes_per_arm=100, max_duration_days=21)
    held = decide_ab_test(few, days_elapsed=10, config=config)
    assert held.decision == HOLD
    assert "too few outcomes: 50" in held.reason
    assert decide_ab_test(few, days_elapsed=21, config=config).decision == REJECT


def test_no_outcomes_at_all_hold_without_a_p_value():
    result = decide_ab_test(pl.DataFrame(schema={"arm": pl.String, "engaged": pl.Boolean}), 7)
    assert result.decision == HOLD
    assert result.p_value is None and result.relative_lift is None


def test_alpha_is_configurable():
    evidence = outcomes(2_000, 500, 500, 145)  # +16 % relative, p ≈ 0.03
    assert decide_ab_test(evidence, 7).decision == PROMOTE
    assert decide_ab_test(evidence, 7, ABTestConfig(alpha=0.01)).decision == REJECT
