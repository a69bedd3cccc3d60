"""Logistic regression on the engagement model's inputs: the baseline it must clearly beat.

Same inputs, same preprocessing, same training protocol (fit on the earlier rows, threshold chosen
on the later validation slice; see `engagement.model`). Logistic regression minimises log loss, so
its probabilities are left uncalibrated on purpose.
"""

from __future__ import annotations

import time

import pandas as pd
import polars as pl
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from roi_assets.engagement.features import HEADLINE_TARGET, build_preprocessor
from roi_assets.engagement.model import (
    DEFAULT_VALIDATION_FRACTION,
    EngagementClassifier,
    thresholded_on_validation,
    training_slices,
)

LOGISTIC_BASELINE_NAME = "logistic_regression"


def train_logistic_baseline(
    frame: pl.DataFrame | pd.DataFrame,
    target: str = HEADLINE_TARGET,
    *,
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION,
) -> EngagementClassifier:
    """Fit the baseline on the same rows and protocol as `train_engagement_model`.

    Deterministic (the lbfgs solver draws nothing at random), so it takes no seed.
    """
    started = time.perf_counter()
    slices = training_slices(frame, target, validation_fraction)
    pipeline = Pipeline(
        [
            ("preprocessor", build_preprocessor()),
            ("classifier", LogisticRegression(max_iter=2000)),
        ]
    ).fit(slices.fit_features, slices.fit_labels)
    estimator, validation_metrics = thresholded_on_validation(pipeline, slices)
    return EngagementClassifier(
        target=target,
        estimator=estimator,
        fit_window=slices.fit_window,
        validation_window=slices.validation_window,
        n_fit_rows=len(slices.fit_labels),
        n_validation_rows=len(slices.validation_labels),
        validation_metrics=validation_metrics,
        training_seconds=time.perf_counter() - started,
    )
