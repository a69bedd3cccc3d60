"""The email engagement predictor of the specification (section 1), without Dagster.

Training protocol, shared with the logistic baseline (`engagement.baseline`):
1. only label-complete rows (7 days observed), in send-time order;
2. the earlier part (1 - `validation_fraction`) fits the model: `GridSearchCV` over the grid with
   `TimeSeriesSplit` (every fold validates on sends later than it trained on), scoring ROC AUC,
   the points that differ only in their boosting rounds sharing one fit (`engagement.search`),
   then the best point is refit on the whole earlier part;
3. the later part (the validation slice) calibrates the probabilities (a frozen pipeline inside
   `CalibratedClassifierCV`, sigmoid by default) and chooses the decision threshold that maximises
   F1. Calibration is monotone, so the threshold amounts to a cut on the model's ranking chosen on
   sends the model never saw.

The pipeline: `ColumnTransformer` (StandardScaler, one-hot) → `SelectKBest(f_classif, k=30)` →
`XGBClassifier(binary:logistic, hist)` with `scale_pos_weight` = negatives / positives of the
fitting rows (one value for the whole search). The fitted estimator is a
`FixedThresholdClassifier`: `predict_proba` gives calibrated probabilities, `predict` decides at the
chosen threshold, and it is what gets logged to MLflow.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import Pipeline
from xgboost import XGBClassifier

from roi_assets.engagement.features import (
    ENCODED_FEATURE_COUNT,
    HEADLINE_TARGET,
    TIME_COLUMN,
    build_preprocessor,
    engagement_features,
    labelled_history,
    labels_of,
)
from roi_assets.engagement.search import search_shared_rounds
from roi_assets.evaluation.binary_metrics import binary_metrics, choose_threshold
from roi_assets.evaluation.windows import TimeWindow, time_ordered_split

SPECIFICATION_PARAM_GRID: dict[str, list[Any]] = {
    "classifier__n_estimators": [100, 200, 300],
    "classifier__max_depth": [4, 6, 8],
    "classifier__learning_rate": [0.05, 0.1, 0.15],
}


def best_point_grid(logged_params: dict[str, str], fallback: dict[str, list]) -> dict[str, list]:
    """A one-point grid from the parameters a search logged (MLflow keeps them as strings), so a
    daily refit reuses the latest search's choice; `fallback` when a parameter is missing."""
    grid = {}
    for name, values in fallback.items():
        logged = logged_params.get(name)
        if logged is None:
            return fallback
        kind = type(SPECIFICATION_PARAM_GRID.get(name, values)[0])
        grid[name] = [kind(float(logged)) if kind is int else kind(logged)]
    return grid


# Targets of the specification, as metric names of `evaluation.binary_metrics`.
SPECIFICATION_TARGETS: dict[str, float] = {
    "precision": 0.85,
    "recall": 0.80,
    "f1_score": 0.82,
    "auc_roc": 0.90,
}
SELECTED_FEATURES = 30
DEFAULT_VALIDATION_FRACTION = 0.2
DEFAULT_CALIBRATION = "sigmoid"


@dataclass(frozen=True)
class TrainingSlices:
    """Label-complete rows split in time: the earlier part fits, the later part validates."""

    fit_features: pd.DataFrame
    fit_labels: np.ndarray
    validation_features: pd.DataFrame
    validation_labels: np.ndarray
    fit_window: TimeWindow
    validation_window: TimeWindow


def training_slices(
    frame: pl.DataFrame | pd.DataFrame,
    target: str,
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION,
) -> TrainingSlices:
    """Label-complete rows in send-time order, split into the fitting and validation slices."""
    earlier, later = time_ordered_split(
        labelled_history(frame, target), TIME_COLUMN, validation_fraction
    )
    fit_labels = labels_of(earlier, target)
    validation_labels = labels_of(later, target)
    for part, labels in (("fitting", fit_labels), ("validation", validation_labels)):
        if not 0 < labels.sum() < len(labels):
            raise ValueError(f"the {part} rows of {target!r} need both outcomes")
    return TrainingSlices(
        fit_features=engagement_features(earlier),
        fit_labels=fit_labels,
        validation_features=engagement_features(later),
        validation_labels=validation_labels,
        fit_window=TimeWindow.covering(earlier[TIME_COLUMN]),
        validation_window=TimeWindow.covering(later[TIME_COLUMN]),
    )


@dataclass(frozen=True)
class EngagementClassifier:
    """A fitted engagement classifier with its decision threshold and where its data came from."""

    target: str
    estimator: FixedThresholdClassifier
    fit_window: TimeWindow
    validation_window: TimeWindow
    n_fit_rows: int
    n_validation_rows: int
    # Metrics on the validation slice, which also chose the threshold (optimistic there):
    # evaluate on a later window with `evaluation.oracle_comparison`.
    validation_metrics: dict[str, float]
    training_seconds: float

    @property
    def threshold(self) -> float:
        return float(self.estimator.threshold)


@dataclass(frozen=True)
class TrainedEngagementModel(EngagementClassifier):
    """The tuned XGBoost pipeline plus what the search found."""

    best_params: dict[str, Any]
    best_cv_auc: float  # NaN for a refit without cross-validation
    cv_results: pl.DataFrame  # one row per grid point
    scale_pos_weight: float
    selected_features: tuple[str, ...]

    @property
    def cross_validated(self) -> dict[str, float]:
        """The search's AUC as a metric; none for a refit without cross-validation."""
        return {} if math.isnan(self.best_cv_auc) else {"cv_auc": self.best_cv_auc}


def thresholded_on_validation(
    estimator: ClassifierMixin, slices: TrainingSlices
) -> tuple[FixedThresholdClassifier, dict[str, float]]:
    """Wrap a fitted classifier with the F1-maximising threshold of the validation slice; also
    return its metrics there."""
    scores = estimator.predict_proba(slices.validation_features)[:, 1]
    threshold = choose_threshold(slices.validation_labels, scores)
    wrapped = FixedThresholdClassifier(
        estimator, threshold=threshold, response_method="predict_proba"
    )
    return wrapped, binary_metrics(slices.validation_labels, scores, threshold)


def class_balance_weight(labels: np.ndarray) -> float:
    """XGBoost's `scale_pos_weight`: negatives per positive, so both classes weigh the same."""
    positives = int(np.sum(labels))
    if positives == 0:
        raise ValueError("no positive labels to weigh")
    return (len(labels) - positives) / positives


def build_engagement_pipeline(scale_pos_weight: float, n_jobs: int = 1, seed: int = 0) -> Pipeline:
    """The specification's pipeline with its default hyper-parameters (the grid overrides them)."""
    return Pipeline(
        [
            ("preprocessor", build_preprocessor()),
            (
                "feature_selection",
                SelectKBest(f_classif, k=min(SELECTED_FEATURES, ENCODED_FEATURE_COUNT)),
            ),
            (
                "classifier",
                XGBClassifier(
                    n_estimators=200,
                    max_depth=6,
                    learning_rate=0.1,
                    objective="binary:logistic",
                    tree_method="hist",
                    scale_pos_weight=scale_pos_weight,
                    n_jobs=n_jobs,
                    random_state=seed,
                ),
            ),
        ]
    )


def single_point(grid: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """The parameters of a one-point grid; a refit without cross-validation has nothing to
    choose between."""
    if any(len(values) != 1 for values in grid.values()):
        raise ValueError(f"a refit without cross-validation needs a one-point grid, got {grid}")
    return {name: values[0] for name, values in grid.items()}


def _selected_features(pipeline: Pipeline) -> tuple[str, ...]:
    names = pipeline.named_steps["preprocessor"].get_feature_names_out()
    kept = pipeline.named_steps["feature_selection"].get_support()
    return tuple(str(name) for name in names[kept])


def train_engagement_model(
    frame: pl.DataFrame | pd.DataFrame,
    target: str = HEADLINE_TARGET,
    *,
    param_grid: Mapping[str, Sequence[Any]] | None = None,
    n_splits: int = 5,
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION,
    calibration_method: str = DEFAULT_CALIBRATION,
    n_jobs: int = 1,
    xgboost_threads: int = 1,
    seed: int = 0,
) -> TrainedEngagementModel:
    """Tune, calibrate and threshold the pipeline on `feat_email_engagement` rows.

    `param_grid` defaults to the specification's full grid. `n_jobs` grid fits run side by side,
    each XGBoost on `xgboost_threads` threads: on a few tens of thousands of rows XGBoost gains
    little from a second thread, while independent fits scale with the cores (measured in
    `benchmarks/engagement_training.py`); the chosen point is then fitted once with XGBoost on
    `n_jobs` threads. `n_splits=0` fits a one-point grid without cross-validation (the daily
    refit: nothing to choose) and reports no cross-validated AUC (NaN).
    """
    started = time.perf_counter()
    grid = {name: list(values) for name, values in (param_grid or SPECIFICATION_PARAM_GRID).items()}
    slices = training_slices(frame, target, validation_fraction)
    scale_pos_weight = class_balance_weight(slices.fit_labels)
    if n_splits == 0:
        point, best_cv_auc = single_point(grid), float("nan")
        cv_results = pl.DataFrame({name: [value] for name, value in point.items()})
    else:
        search = search_shared_rounds(
            build_engagement_pipeline(scale_pos_weight, n_jobs=xgboost_threads, seed=seed),
            grid,
            slices.fit_features,
            slices.fit_labels,
            n_splits=n_splits,
            n_jobs=n_jobs,
        )
        point, best_cv_auc, cv_results = search.best_params, search.best_cv_auc, search.cv_results
    # one fit of the chosen point, XGBoost on every core the search's fits ran side by side on
    pipeline = build_engagement_pipeline(scale_pos_weight, n_jobs=max(n_jobs, 1), seed=seed)
    best: Pipeline = pipeline.set_params(**point).fit(slices.fit_features, slices.fit_labels)
    calibrated = CalibratedClassifierCV(FrozenEstimator(best), method=calibration_method).fit(
        slices.validation_features, slices.validation_labels
    )
    estimator, validation_metrics = thresholded_on_validation(calibrated, slices)
    return TrainedEngagementModel(
        target=target,
        estimator=estimator,
        fit_window=slices.fit_window,
        validation_window=slices.validation_window,
        n_fit_rows=len(slices.fit_labels),
        n_validation_rows=len(slices.validation_labels),
        validation_metrics=validation_metrics,
        training_seconds=time.perf_counter() - started,
        best_params=point,
        best_cv_auc=best_cv_auc,
        cv_results=cv_results,
        scale_pos_weight=scale_pos_weight,
        selected_features=_selected_features(best),
    )


def predict_proba(
    model: EngagementClassifier | ClassifierMixin, frame: pl.DataFrame | pd.DataFrame
) -> np.ndarray:
    """Probability of the model's target per row, after validating the input.

    `model` is a trained `EngagementClassifier` or its bare estimator (e.g. loaded from MLflow).
    """
    estimator = model.estimator if isinstance(model, EngagementClassifier) else model
    return estimator.predict_proba(engagement_features(frame))[:, 1]


def predict(
    model: EngagementClassifier | ClassifierMixin, frame: pl.DataFrame | pd.DataFrame
) -> np.ndarray:
    """0/1 decisions at the model's chosen threshold, after validating the input."""
    estimator = model.estimator if isinstance(model, EngagementClassifier) else model
    return estimator.predict(engagement_features(frame)).astype(np.int64)
