"""Churn probabilities that mean what they say: a monotone map fitted on matured, later labels.

The stack's meta-learner is fitted on out-of-fold scores of the training period, then the members
are refitted on every training row and score snapshots months later. Both steps move the scale
(members trained on more rows are more confident; churn pressure changes with the season), so the
stack's probabilities rank well but are not frequencies: on the default world the 30-day stack said
2 % where 4.5 % of clients churned, and no client reached the medium tier. The calibrator is fitted
on the latest out-of-fold block of the training rows (`ChurnEnsemble.fit`): snapshots scored by
members that never saw them, purged so that no label they trained on reaches into them, and the
closest in time to the snapshots the model will score.

Two methods:
- `platt` (the default): logistic calibration of the stack's logit, p = σ(a + b·logit(s)), two
  parameters. It corrects the level (a) and the spread (b) and keeps the ranking, so the AUC is
  unchanged. Chosen because the tiers are decided in the sparse top of the distribution: with a few
  hundred churners in the calibration block, a two-parameter map is estimated from every row,
  while isotonic regression's top step rests on the handful of rows that happen to score highest.
- `isotonic`: a non-decreasing step function (scikit-learn's IsotonicRegression), which needs no
  shape but more churners, and ties rows in steps (the AUC can drop a little).
The default world's figures for both are in docs/benchmarks.md.

Stored as plain numbers (JSON) with the ensemble, never pickled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

PLATT = "platt"
ISOTONIC = "isotonic"
CALIBRATION_METHODS: tuple[str, ...] = (PLATT, ISOTONIC)
DEFAULT_METHOD = PLATT
_CLIP = 1e-6
# Platt's two parameters are fitted without a penalty to speak of: with thousands of rows a default
# L2 penalty (C = 1) would still pull the slope towards zero for no reason.
_NEARLY_UNPENALISED = 1e6


def _logit(scores: ArrayLike) -> np.ndarray:
    clipped = np.clip(np.asarray(scores, dtype=np.float64), _CLIP, 1 - _CLIP)
    return np.log(clipped / (1 - clipped))


@dataclass(frozen=True)
class ProbabilityCalibrator:
    """A fitted monotone map from the stack's probability to a calibrated one."""

    method: str
    rows: int
    positives: int
    intercept: float = 0.0  # platt
    slope: float = 1.0  # platt
    knots_x: tuple[float, ...] = ()  # isotonic: interpolated between, clipped outside
    knots_y: tuple[float, ...] = ()

    @classmethod
    def fit(
        cls, scores: ArrayLike, outcomes: ArrayLike, method: str = DEFAULT_METHOD
    ) -> ProbabilityCalibrator:
        """Fit on the stack's probabilities and the matured 0/1 outcomes of the same rows."""
        if method not in CALIBRATION_METHODS:
            raise ValueError(f"method must be one of {CALIBRATION_METHODS}, got {method!r}")
        probabilities = np.asarray(scores, dtype=np.float64)
        labels = np.asarray(outcomes, dtype=np.int64)
        if probabilities.shape != labels.shape or probabilities.ndim != 1:
            raise ValueError("scores and outcomes must be 1-d arrays of the same length")
        positives = int(labels.sum())
        if not 0 < positives < len(labels):
            raise ValueError("calibration needs both outcomes among its rows")
        if method == PLATT:
            model = LogisticRegression(C=_NEARLY_UNPENALISED).fit(
                _logit(probabilities)[:, None], labels
            )
            return cls(
                method,
                len(labels),
                positives,
                intercept=float(model.intercept_[0]),
                slope=float(model.coef_[0, 0]),
            )
        isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
            probabilities, labels
        )
        return cls(
            method,
            len(labels),
            positives,
            knots_x=tuple(float(x) for x in isotonic.X_thresholds_),
            knots_y=tuple(float(y) for y in isotonic.y_thresholds_),
        )

    def transform(self, scores: ArrayLike) -> np.ndarray:
        """Calibrated probabilities of the stack's probabilities."""
        probabilities = np.asarray(scores, dtype=np.float64)
        if self.method == PLATT:
            return 1.0 / (1.0 + np.exp(-(self.intercept + self.slope * _logit(probabilities))))
        # IsotonicRegression.predict interpolates linearly between its thresholds and clips
        # outside them; the same from the stored knots, so loading needs no pickle.
        return np.interp(probabilities, self.knots_x, self.knots_y)

    def to_dict(self) -> dict:
        return {**asdict(self), "knots_x": list(self.knots_x), "knots_y": list(self.knots_y)}

    @classmethod
    def from_dict(cls, values: dict) -> ProbabilityCalibrator:
        return cls(
            **{
                **values,
                "knots_x": tuple(values.get("knots_x", ())),
                "knots_y": tuple(values.get("knots_y", ())),
            }
        )
