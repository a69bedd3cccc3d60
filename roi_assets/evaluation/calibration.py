"""Do the probabilities mean what they say? Observed against predicted per decile of the scores.

The rows are sorted by score and cut into ten groups of (nearly) equal size; each decile reports its
mean predicted probability, the share of its rows whose outcome happened and, where the world's
true probabilities are known, their mean. Equal-count bins rather than the equal-width bins of
`binary_metrics.expected_calibration_error`: churn probabilities crowd below 0.1, where equal-width
bins put nearly every row into the first bin and say nothing about the riskiest tenth, the rows the
tiers and the watch list are made of.

`binary_metrics.decile_calibration_error` is the row-weighted mean |predicted - observed| over the
deciles (the expected calibration error on these bins). Observed rates are noisy: a decile of n
rows with rate p varies by about sqrt(p (1 - p) / n), so even the true probabilities show an error
of that order; reports put the oracle's value next to the model's, and `truth_gap` (predicted
against the true probabilities, where known) measures miscalibration without that noise.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import ArrayLike

from roi_assets.evaluation.binary_metrics import (
    DEFAULT_CALIBRATION_BINS,
    binary_arrays,
    decile_groups,
)

N_DECILES = DEFAULT_CALIBRATION_BINS
DECILE_COLUMNS: tuple[str, ...] = (
    "decile",
    "rows",
    "mean_predicted",
    "observed_rate",
    "mean_true_probability",
)


def decile_table(
    outcomes: ArrayLike,
    scores: ArrayLike,
    true_probabilities: ArrayLike | None = None,
    n_bins: int = N_DECILES,
) -> pl.DataFrame:
    """One row per decile of `scores` (DECILE_COLUMNS); `mean_true_probability` is null without
    the true probabilities."""
    observed, predicted = binary_arrays(outcomes, scores)
    truth = None if true_probabilities is None else np.asarray(true_probabilities, dtype=float)
    if truth is not None and truth.shape != predicted.shape:
        raise ValueError("true_probabilities must align with the scores")
    frame = pl.DataFrame(
        {
            "decile": decile_groups(predicted, n_bins),
            "predicted": predicted,
            "observed": observed.astype(np.float64),
            "truth": truth if truth is not None else np.full(len(predicted), np.nan),
        }
    )
    table = (
        frame.group_by("decile")
        .agg(
            pl.len().alias("rows"),
            pl.col("predicted").mean().alias("mean_predicted"),
            pl.col("observed").mean().alias("observed_rate"),
            pl.col("truth").mean().alias("mean_true_probability"),
        )
        .sort("decile")
    )
    if truth is None:
        table = table.with_columns(pl.lit(None, dtype=pl.Float64).alias("mean_true_probability"))
    return table.select(DECILE_COLUMNS)


def truth_gap(scores: ArrayLike, true_probabilities: ArrayLike, n_bins: int = N_DECILES) -> float:
    """Row-weighted mean |mean predicted - mean true probability| over the score deciles: the
    calibration error the observed outcomes estimate, without their sampling noise."""
    predicted = np.asarray(scores, dtype=np.float64)
    placeholder = np.zeros(len(predicted), dtype=np.int64)
    table = decile_table(placeholder, predicted, true_probabilities, n_bins)
    return _weighted_gap(table, "mean_true_probability")


def _weighted_gap(table: pl.DataFrame, against: str) -> float:
    rows = table["rows"].to_numpy()
    gaps = np.abs(table["mean_predicted"].to_numpy() - table[against].to_numpy())
    return float((rows * gaps).sum() / rows.sum())


def decile_markdown(tables: dict[str, pl.DataFrame]) -> str:
    """Deciles of several scorers side by side: predicted → observed (true) per decile."""
    names = list(tables)
    lines = [
        "| decile | " + " | ".join(f"{name}: predicted → observed (true)" for name in names) + " |",
        "| ---: |" + " ---: |" * len(names),
    ]
    for decile in range(1, N_DECILES + 1):
        cells = []
        for name in names:
            row = tables[name].filter(pl.col("decile") == decile)
            if row.height == 0:
                cells.append("–")
                continue
            values = row.row(0, named=True)
            true = values["mean_true_probability"]
            cells.append(
                f"{values['mean_predicted']:.3f} → {values['observed_rate']:.3f}"
                + ("" if true is None else f" ({true:.3f})")
            )
        lines.append(f"| {decile} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def decile_metrics(
    table: pl.DataFrame, prefix: str = ""
) -> list[tuple[str, float | None, float | None, float | None]]:
    """A decile table as (metric, value, oracle_value, baseline_value) tuples for
    `model_evaluations.evaluation_rows`: per decile, `decile_01_predicted` (mean prediction) and
    `decile_01_observed` (observed rate), each with the decile's mean true probability as the
    oracle's value."""
    metrics = []
    for row in table.iter_rows(named=True):
        name = f"{prefix}decile_{row['decile']:02d}"
        true = row["mean_true_probability"]
        metrics.append((f"{name}_predicted", row["mean_predicted"], true, None))
        metrics.append((f"{name}_observed", row["observed_rate"], true, None))
    return metrics
