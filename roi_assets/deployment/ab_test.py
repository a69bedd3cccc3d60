"""The A/B test's verdict: does the challenger's engagement rate beat the champion's?

Decided by a one-sided two-proportion z-test (statsmodels) on the logged outcomes AND the
specification's minimum relative improvement: a significant but tiny lift is not worth a rollout,
and a large lift on a handful of outcomes is not evidence. The verdict is only given once the
test has run its planned duration, so daily looks at the data do not inflate false promotions.
Outcomes are (arm, engaged) rows, whatever produced them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import polars as pl
from statsmodels.stats.proportion import proportions_ztest

from roi_assets.deployment.split import CHALLENGER_ARM, CHAMPION_ARM

Decision = Literal["promote", "hold", "reject"]
PROMOTE: Decision = "promote"
HOLD: Decision = "hold"
REJECT: Decision = "reject"
SUCCESS_METRIC = "engagement_rate"


@dataclass(frozen=True)
class ABTestConfig:
    """The specification's A/B plan: 80 % champion / 20 % challenger for 7 days, promote on a
    relative engagement-rate improvement of at least 5 % that is significant at `alpha`."""

    challenger_share: float = 0.2
    duration_days: int = 7
    min_relative_improvement: float = 0.05
    alpha: float = 0.05
    # Below this many outcomes in an arm the z-test's normal approximation is not trusted; the
    # test keeps running (hold) until it has them or until `max_duration_days`, then it rejects.
    min_outcomes_per_arm: int = 100
    max_duration_days: int = 21


SPECIFICATION_AB_TEST = ABTestConfig()


@dataclass(frozen=True)
class ABTestResult:
    decision: Decision
    days_elapsed: int
    n_champion: int
    n_challenger: int
    engaged_champion: int
    engaged_challenger: int
    p_value: float | None
    reason: str
    # What was compared: the arms' engagement rates (A/B), or a shadow test's mean losses, which
    # it gives as `metric_champion` / `metric_challenger` (lower is better).
    metric: str = SUCCESS_METRIC
    metric_champion: float | None = None
    metric_challenger: float | None = None

    @property
    def lower_is_better(self) -> bool:
        return self.metric_champion is not None

    @property
    def rate_champion(self) -> float | None:
        if self.lower_is_better:
            return self.metric_champion
        return self.engaged_champion / self.n_champion if self.n_champion else None

    @property
    def rate_challenger(self) -> float | None:
        if self.lower_is_better:
            return self.metric_challenger
        return self.engaged_challenger / self.n_challenger if self.n_challenger else None

    @property
    def relative_lift(self) -> float | None:
        """The challenger's relative improvement on the champion (positive is better): rate
        (challenger − champion) / champion, or for a loss (champion − challenger) / champion;
        None until both have a value."""
        champion, challenger = self.rate_champion, self.rate_challenger
        if champion is None or challenger is None:
            return None
        if self.lower_is_better:
            champion, challenger = -champion, -challenger
        if champion == 0:
            return math.inf if challenger > 0 else 0.0
        return (challenger - champion) / abs(champion)


def _arm_counts(outcomes: pl.DataFrame, arm: str) -> tuple[int, int]:
    rows = outcomes.filter(pl.col("arm") == arm)
    return rows.height, int(rows["engaged"].cast(pl.Int64).sum())


def _one_sided_p_value(engaged: tuple[int, int], n: tuple[int, int]) -> float | None:
    """P-value of "challenger rate > champion rate"; None when both arms are all 0 or all 1 (the
    pooled variance is zero and the test says nothing)."""
    pooled = sum(engaged) / sum(n)
    if pooled in (0.0, 1.0):
        return None
    _, p_value = proportions_ztest(list(engaged), list(n), alternative="larger")
    return float(p_value)


def decide_ab_test(
    outcomes: pl.DataFrame, days_elapsed: int, config: ABTestConfig = SPECIFICATION_AB_TEST
) -> ABTestResult:
    """Promote, hold or reject the challenger from its outcomes (columns `arm`, `engaged`) after
    `days_elapsed` days of the test."""
    n_champion, engaged_champion = _arm_counts(outcomes, CHAMPION_ARM)
    n_challenger, engaged_challenger = _arm_counts(outcomes, CHALLENGER_ARM)
    p_value = (
        _one_sided_p_value((engaged_challenger, engaged_champion), (n_challenger, n_champion))
        if n_champion and n_challenger
        else None
    )

    def result(decision: Decision, reason: str) -> ABTestResult:
        return ABTestResult(
            decision,
            days_elapsed,
            n_champion,
            n_challenger,
            engaged_champion,
            engaged_challenger,
            p_value,
            reason,
        )

    if days_elapsed < config.duration_days:
        return result(HOLD, f"still running: day {days_elapsed} of {config.duration_days}")
    fewest = min(n_champion, n_challenger)
    if fewest < config.min_outcomes_per_arm:
        if days_elapsed >= config.max_duration_days:
            return result(
                REJECT,
                f"inconclusive after {days_elapsed} days: {fewest} outcomes in the smaller arm "
                f"(needs {config.min_outcomes_per_arm})",
            )
        return result(
            HOLD,
            f"too few outcomes: {fewest} in the smaller arm (needs {config.min_outcomes_per_arm})",
        )
    probe = result(HOLD, "")
    lift = probe.relative_lift
    significant = p_value is not None and p_value < config.alpha
    large_enough = lift is not None and lift >= config.min_relative_improvement
    rates = (
        f"{SUCCESS_METRIC} {probe.rate_challenger:.4f} (challenger, n={n_challenger}) vs "
        f"{probe.rate_champion:.4f} (champion, n={n_champion}), lift {lift:+.1%}, "
        f"one-sided p={'n/a' if p_value is None else f'{p_value:.4f}'}"
    )
    if significant and large_enough:
        return result(PROMOTE, f"challenger wins: {rates}")
    failed = []
    if not significant:
        failed.append(f"not significant at alpha={config.alpha}")
    if not large_enough:
        failed.append(f"lift below +{config.min_relative_improvement:.0%}")
    return result(REJECT, f"challenger not better ({' and '.join(failed)}): {rates}")
