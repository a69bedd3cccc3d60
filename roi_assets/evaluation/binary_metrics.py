"""Quality of a binary classifier's probabilities and of its decisions at a chosen threshold.

A row is predicted positive when its score is at or above the threshold. Metric names follow the
specification (`precision`, `recall`, `f1_score`, `auc_roc`) so targets can be read off directly;
the others are `pr_auc` (average precision), `brier_score`, `calibration_error` (expected
calibration error over equal-width bins) and `decile_calibration_error` (the same over ten
equal-count bins of the scores, see `evaluation.calibration`). Undefined values (one class only, no
positive decision) are NaN rather than a misleading 0.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)

METRIC_NAMES: tuple[str, ...] = (
    "threshold",
    "precision",
    "recall",
    "f1_score",
    "auc_roc",
    "pr_auc",
    "brier_score",
    "calibration_error",
    "decile_calibration_error",
)
DEFAULT_CALIBRATION_BINS = 10


def binary_arrays(y_true: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes as 0/1 integers and scores as probabilities, checked to belong together."""
    outcomes = np.asarray(y_true)
    probabilities = np.asarray(scores, dtype=np.float64)
    if outcomes.ndim != 1 or outcomes.shape != probabilities.shape:
        raise ValueError("y_true and scores must be 1-d arrays of the same length")
    if len(outcomes) == 0:
        raise ValueError("no rows to evaluate")
    if not np.isin(outcomes, (0, 1)).all():
        raise ValueError("y_true must hold 0/1 outcomes")
    if not np.isfinite(probabilities).all() or probabilities.min() < 0 or probabilities.max() > 1:
        raise ValueError("scores must be finite probabilities in [0, 1]")
    return outcomes.astype(np.int64), probabilities


def expected_calibration_error(
    y_true: ArrayLike, scores: ArrayLike, n_bins: int = DEFAULT_CALIBRATION_BINS
) -> float:
    """Row-weighted mean gap between mean score and observed frequency over equal-width bins.

    scikit-learn draws the reliability curve but has no calibration-error score, so it is computed
    here with the same binning as `sklearn.calibration.calibration_curve(strategy="uniform")`.
    """
    outcomes, probabilities = binary_arrays(y_true, scores)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bin_ids = np.searchsorted(edges[1:-1], probabilities)
    score_sums = np.bincount(bin_ids, weights=probabilities, minlength=n_bins)
    outcome_sums = np.bincount(bin_ids, weights=outcomes, minlength=n_bins)
    return float(np.abs(score_sums - outcome_sums).sum() / len(outcomes))


def decile_groups(scores: ArrayLike, n_bins: int = DEFAULT_CALIBRATION_BINS) -> np.ndarray:
    """Per row, its group 1 (lowest scores) … n_bins (highest): equal counts by score rank, ties
    broken by position so that a constant score still gives equal groups."""
    values = np.asarray(scores, dtype=np.float64)
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    groups = np.zeros(len(values), dtype=np.int64)
    order = np.argsort(values, kind="stable")
    for number, members in enumerate(np.array_split(order, min(n_bins, max(len(values), 1))), 1):
        groups[members] = number
    return groups


def decile_calibration_error(
    y_true: ArrayLike, scores: ArrayLike, n_bins: int = DEFAULT_CALIBRATION_BINS
) -> float:
    """Row-weighted mean |mean score - observed frequency| over `n_bins` equal-count bins of the
    scores (deciles by default): where scores crowd into a corner of [0, 1] (churn, below 0.1),
    equal-width bins would pool nearly every row into one."""
    outcomes, probabilities = binary_arrays(y_true, scores)
    groups = decile_groups(probabilities, n_bins)
    score_sums = np.bincount(groups, weights=probabilities)
    outcome_sums = np.bincount(groups, weights=outcomes)
    return float(np.abs(score_sums - outcome_sums).sum() / len(outcomes))


def choose_threshold(y_true: ArrayLike, scores: ArrayLike, beta: float = 1.0) -> float:
    """The score threshold that maximises F-beta (F1 by default) on these rows.

    Choose it on validation rows, never on the rows the model is evaluated on.
    """
    outcomes, probabilities = binary_arrays(y_true, scores)
    if not 0 < outcomes.sum() < len(outcomes):
        raise ValueError("choosing a threshold needs both outcomes among the rows")
    precision, recall, thresholds = precision_recall_curve(outcomes, probabilities)
    weight = beta**2
    denominator = weight * precision + recall
    f_beta = np.divide(
        (1 + weight) * precision * recall,
        denominator,
        out=np.zeros_like(denominator),
        where=denominator > 0,
    )
    # The curve's last point (recall 0) has no threshold of its own.
    return float(thresholds[int(np.argmax(f_beta[:-1]))])


def binary_metrics(
    y_true: ArrayLike,
    scores: ArrayLike,
    threshold: float,
    n_bins: int = DEFAULT_CALIBRATION_BINS,
) -> dict[str, float]:
    """Every metric of `METRIC_NAMES`; a row is decided positive when its score ≥ `threshold`."""
    outcomes, probabilities = binary_arrays(y_true, scores)
    decisions = (probabilities >= threshold).astype(np.int64)
    both_classes = 0 < outcomes.sum() < len(outcomes)
    return {
        "threshold": float(threshold),
        "precision": float(precision_score(outcomes, decisions, zero_division=np.nan)),
        "recall": float(recall_score(outcomes, decisions, zero_division=np.nan)),
        "f1_score": float(f1_score(outcomes, decisions, zero_division=np.nan)),
        "auc_roc": float(roc_auc_score(outcomes, probabilities)) if both_classes else math.nan,
        "pr_auc": (
            float(average_precision_score(outcomes, probabilities)) if both_classes else math.nan
        ),
        "brier_score": float(brier_score_loss(outcomes, probabilities)),
        "calibration_error": expected_calibration_error(outcomes, probabilities, n_bins),
        "decile_calibration_error": decile_calibration_error(outcomes, probabilities, n_bins),
    }
