"""The shadow verdict: does the challenger, scoring the same rows as the champion without
serving, make smaller errors on the labels that matured since?

For models whose outcome matures after an A/B week (churn) or that decide nothing on their own
(engagement scores, the document classifier), both versions score every row and each row's loss
is compared (log loss for probabilities, 0/1 error for a class). The rows are paired, so the test
is a one-sided paired t-test on the per-row difference (scipy); the challenger must also improve
the mean loss by `min_relative_improvement`, for the same reason as the A/B test's minimum lift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from roi_assets.deployment.ab_test import HOLD, PROMOTE, REJECT, ABTestResult

LOSS_CHAMPION = "loss_champion"
LOSS_CHALLENGER = "loss_challenger"


@dataclass(frozen=True)
class ShadowConfig:
    """Judge after `min_days` and `min_rows` matured rows; give up (reject) after `max_days`."""

    min_days: int = 7
    min_rows: int = 200
    max_days: int = 42
    min_relative_improvement: float = 0.01
    alpha: float = 0.05


def no_losses() -> pl.DataFrame:
    """The losses of a shadow test with nothing matured yet."""
    return pl.DataFrame(schema={LOSS_CHAMPION: pl.Float64, LOSS_CHALLENGER: pl.Float64})


def log_loss_per_row(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Each row's binary log loss (probabilities clipped away from 0 and 1)."""
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-6, 1 - 1e-6)
    y = np.asarray(labels, dtype=float)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def decide_shadow(
    losses: pl.DataFrame, days_elapsed: int, metric: str, config: ShadowConfig = ShadowConfig()
) -> ABTestResult:
    """Promote, hold or reject from paired per-row losses (`loss_champion`, `loss_challenger`).

    The verdict is stored like an A/B test's: n is the rows, rate_* the mean losses and the lift
    the relative reduction of the loss."""
    n = losses.height
    champion = losses[LOSS_CHAMPION].to_numpy() if n else np.array([])
    challenger = losses[LOSS_CHALLENGER].to_numpy() if n else np.array([])
    mean_champion = float(champion.mean()) if n else None
    mean_challenger = float(challenger.mean()) if n else None
    difference = champion - challenger
    p_value = None
    if n >= 2 and np.std(difference) > 0:
        p_value = float(stats.ttest_1samp(difference, 0.0, alternative="greater").pvalue)

    def result(decision: str, reason: str) -> ABTestResult:
        return ABTestResult(
            decision,
            days_elapsed,
            n,
            n,
            0,
            0,
            p_value,
            reason,
            metric=metric,
            metric_champion=mean_champion,
            metric_challenger=mean_challenger,
        )

    if days_elapsed < config.min_days:
        return result(HOLD, f"shadow scoring: day {days_elapsed} of {config.min_days}")
    if n < config.min_rows:
        if days_elapsed >= config.max_days:
            return result(
                REJECT,
                f"inconclusive after {days_elapsed} days: {n} matured rows "
                f"(needs {config.min_rows})",
            )
        return result(HOLD, f"too few matured rows: {n} (needs {config.min_rows})")
    improvement = (mean_champion - mean_challenger) / mean_champion if mean_champion else 0.0
    summary = (
        f"mean {metric} {mean_challenger:.4f} (challenger) vs {mean_champion:.4f} (champion) on "
        f"{n} matured rows, {improvement:+.1%} less loss, one-sided paired "
        f"p={'n/a' if p_value is None else f'{p_value:.4f}'}"
    )
    significant = p_value is not None and p_value < config.alpha
    if significant and improvement >= config.min_relative_improvement:
        return result(PROMOTE, f"challenger wins in shadow: {summary}")
    failed = [] if significant else [f"not significant at alpha={config.alpha}"]
    if improvement < config.min_relative_improvement:
        failed.append(f"improvement below {config.min_relative_improvement:.0%}")
    return result(REJECT, f"challenger not better in shadow ({' and '.join(failed)}): {summary}")
