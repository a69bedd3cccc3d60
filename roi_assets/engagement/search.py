"""The specification's grid search with the boosting rounds shared between grid points.

XGBoost's first n rounds do not depend on how many rounds follow (no row or column sampling, no
early stopping), so the grid points that differ only in `n_estimators` need one fit: the one with
the most rounds, scored at each round count through `iteration_range`. scikit-learn's
`GridSearchCV` does exactly this when the grid leaves out `n_estimators` and the scoring asks for
one ROC AUC per round count (multi-metric scoring): on the specification's grid, 9 fits per fold
instead of 27 and half the trees, with the same cross-validated AUC for every point
(`test_search.py` checks it against the plain search). `GridSearchCV` cannot see that the points
share their rounds on its own, hence this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from scipy.stats import rankdata
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, ParameterGrid, TimeSeriesSplit
from sklearn.pipeline import Pipeline

from roi_assets.distributed.cluster import fits_on_dask

ROUNDS = "classifier__n_estimators"


class AucAtRounds:
    """Scorer: ROC AUC of a fitted pipeline's probabilities from its first `rounds` boosting
    rounds (a class, not a closure, so that joblib and Dask workers can pickle it)."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds

    def __call__(self, estimator: Pipeline, features: pd.DataFrame, labels: np.ndarray) -> float:
        scores = estimator.predict_proba(features, iteration_range=(0, self.rounds))[:, 1]
        return float(roc_auc_score(labels, scores))


@dataclass(frozen=True)
class SearchOutcome:
    """What the search found: `cv_results` has one row per grid point, in `ParameterGrid`'s order,
    with `mean_fit_seconds` the mean fit time of the fit the point shared with its round counts."""

    best_params: dict[str, Any]
    best_cv_auc: float
    cv_results: pl.DataFrame


def _metric(rounds: int) -> str:
    return f"auc_at_{rounds}_rounds"


def search_shared_rounds(
    pipeline: Pipeline,
    grid: Mapping[str, Sequence[Any]],
    features: pd.DataFrame,
    labels: np.ndarray,
    *,
    n_splits: int,
    n_jobs: int,
) -> SearchOutcome:
    """Cross-validate every point of `grid` (which must list `classifier__n_estimators`) with
    `TimeSeriesSplit(n_splits)` and ROC AUC; the best point is the first of the highest mean AUC,
    as `GridSearchCV` ranks them. No refit: the caller fits the chosen point."""
    rounds = sorted({int(n) for n in grid[ROUNDS]})
    others = {name: list(values) for name, values in grid.items() if name != ROUNDS}
    # with ROI_DASK_SCHEDULER set, the fits run as tasks on the cluster's workers
    with fits_on_dask(n_jobs) as search_jobs:
        search = GridSearchCV(
            clone(pipeline).set_params(**{ROUNDS: rounds[-1]}),
            others,
            cv=TimeSeriesSplit(n_splits=n_splits),
            scoring={_metric(n): AucAtRounds(n) for n in rounds},
            refit=False,
            error_score="raise",
            n_jobs=search_jobs,
        ).fit(features, labels)
    return _outcome(search.cv_results_, grid)


def _outcome(results: Mapping[str, Any], grid: Mapping[str, Sequence[Any]]) -> SearchOutcome:
    """Spread the search's per-round-count scores over the full grid's points."""
    fitted = {_key(params): i for i, params in enumerate(results["params"])}
    points = list(ParameterGrid({name: list(values) for name, values in grid.items()}))
    rows = []
    for point in points:
        i = fitted[_key({k: v for k, v in point.items() if k != ROUNDS})]
        metric = _metric(int(point[ROUNDS]))
        rows.append(
            {
                **point,
                "mean_cv_auc": float(results[f"mean_test_{metric}"][i]),
                "std_cv_auc": float(results[f"std_test_{metric}"][i]),
                "mean_fit_seconds": float(results["mean_fit_time"][i]),
            }
        )
    frame = pl.DataFrame(rows)
    ranks = rankdata(-frame["mean_cv_auc"].to_numpy(), method="min").astype(np.int32)
    frame = frame.with_columns(rank=pl.Series(ranks)).select(
        *grid.keys(), "mean_cv_auc", "std_cv_auc", "rank", "mean_fit_seconds"
    )
    best = int(np.argmin(ranks))
    return SearchOutcome(dict(points[best]), float(frame["mean_cv_auc"][best]), frame)


def _key(params: Mapping[str, Any]) -> tuple:
    return tuple(sorted(params.items()))
