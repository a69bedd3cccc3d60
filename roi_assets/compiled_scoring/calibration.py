"""A fitted `CalibratedClassifierCV` (binary) as its calibrators' parameters.

Each calibrated fold maps the classifier's score through its own calibrator and the folds are
averaged, as scikit-learn does: sigmoid calibrators by their two parameters, `1 / (1 + exp(a·s +
b))`, isotonic ones by their breakpoints, looked up with `np.interp` (scikit-learn's own
prediction, clipped at the ends). The compiled form therefore matches to rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.isotonic import IsotonicRegression

from roi_assets.compiled_scoring.encoding import NotCompilable


@dataclass(frozen=True)
class SigmoidMap:
    a: float
    b: float

    def apply(self, scores: np.ndarray) -> np.ndarray:
        return expit(-(self.a * scores + self.b))


@dataclass(frozen=True)
class IsotonicMap:
    x: np.ndarray
    y: np.ndarray

    def apply(self, scores: np.ndarray) -> np.ndarray:
        return np.interp(np.clip(scores, self.x[0], self.x[-1]), self.x, self.y)


@dataclass(frozen=True)
class Calibration:
    """The average over folds of each fold's calibrator; identity when there are none."""

    maps: tuple[SigmoidMap | IsotonicMap, ...]

    def apply(self, scores: np.ndarray) -> np.ndarray:
        if not self.maps:
            return scores
        total = np.zeros_like(scores, dtype=np.float64)
        for calibration_map in self.maps:
            total += calibration_map.apply(scores)
        probabilities = total / len(self.maps)
        # scikit-learn rounds tiny overshoots above 1 back to 1.
        probabilities[(probabilities > 1.0) & (probabilities <= 1.0 + 1e-5)] = 1.0
        return probabilities

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {"method": "sigmoid", "a": m.a, "b": m.b}
            if isinstance(m, SigmoidMap)
            else {"method": "isotonic", "x": m.x.tolist(), "y": m.y.tolist()}
            for m in self.maps
        ]

    @classmethod
    def from_json(cls, spec: list[Mapping[str, Any]]) -> Calibration:
        return cls(
            tuple(
                SigmoidMap(float(item["a"]), float(item["b"]))
                if item["method"] == "sigmoid"
                else IsotonicMap(np.asarray(item["x"], float), np.asarray(item["y"], float))
                for item in spec
            )
        )


def calibration_of(calibrated: CalibratedClassifierCV) -> tuple[Calibration, Any]:
    """The calibration and the one classifier every fold calibrates (a frozen, shared one)."""
    if len(calibrated.classes_) != 2:
        raise NotCompilable("only binary calibration compiles")
    folds = calibrated.calibrated_classifiers_
    classifiers = {id(_unfrozen(fold.estimator)) for fold in folds}
    if len(classifiers) != 1:
        raise NotCompilable("each calibration fold has its own classifier; compile one of them")
    maps = []
    for fold in folds:
        if fold.method not in ("sigmoid", "isotonic") or len(fold.calibrators) != 1:
            raise NotCompilable(f"cannot compile the calibration method {fold.method!r}")
        calibrator = fold.calibrators[0]
        if isinstance(calibrator, IsotonicRegression):
            if calibrator.out_of_bounds != "clip":
                raise NotCompilable("isotonic calibration must clip out-of-range scores")
            maps.append(IsotonicMap(calibrator.X_thresholds_, calibrator.y_thresholds_))
        else:
            maps.append(SigmoidMap(float(calibrator.a_), float(calibrator.b_)))
    return Calibration(tuple(maps)), _unfrozen(folds[0].estimator)


def _unfrozen(estimator: Any) -> Any:
    # FrozenEstimator wraps the fitted classifier; older fits hold the classifier itself.
    return (
        getattr(estimator, "estimator", estimator)
        if type(estimator).__name__ == ("FrozenEstimator")
        else estimator
    )
