"""The engagement classifier compiled: encoding arrays → XGBoost in-place → calibration maps.

Compiles what `engagement.model` fits and logs: a `FixedThresholdClassifier` around a
`CalibratedClassifierCV` of a frozen preprocess → select → `XGBClassifier` pipeline (or any part
of that chain). The threshold travels along, so decisions match too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import xgboost as xgb
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import Pipeline

from roi_assets.compiled_scoring.calibration import Calibration, calibration_of
from roi_assets.compiled_scoring.encoding import NotCompilable, TabularEncoding, split_pipeline
from roi_assets.compiled_scoring.runtimes import booster_from_file

KIND = "boosted_tabular_classifier"
TREES_FILE = "trees.ubj"


@dataclass
class CompiledTabularClassifier:
    """P(positive) of one request's values or of a frame, as the logged pipeline gives it."""

    encoding: TabularEncoding
    booster: xgb.Booster
    iteration_range: tuple[int, int]
    calibration: Calibration
    threshold: float | None

    kind = KIND

    @classmethod
    def compile(cls, model: Any) -> CompiledTabularClassifier:
        threshold = None
        if isinstance(model, FixedThresholdClassifier):
            if model.response_method != "predict_proba" or model.pos_label not in (None, 1):
                raise NotCompilable("the threshold must cut the positive class's probability")
            threshold, model = float(model.threshold), model.estimator
        calibration = Calibration(())
        if isinstance(model, CalibratedClassifierCV):
            calibration, model = calibration_of(model)
        if not isinstance(model, Pipeline):
            raise NotCompilable(f"cannot compile {type(model).__name__}")
        preprocessor, selector, classifier = split_pipeline(model)
        if not isinstance(classifier, xgb.XGBClassifier) or classifier.n_classes_ != 2:
            raise NotCompilable("the pipeline must end in a binary XGBClassifier")
        if classifier.objective != "binary:logistic":
            raise NotCompilable(f"cannot compile the objective {classifier.objective!r}")
        return cls(
            encoding=TabularEncoding.fit_from(preprocessor, selector),
            booster=classifier.get_booster().copy(),
            iteration_range=_iteration_range(classifier),
            calibration=calibration,
            threshold=threshold,
        )

    @classmethod
    def write(cls, model: Any, directory: Path) -> None:
        """Compile `model` into files in `directory`."""
        cls.compile(model).save(directory)

    def predict_row(self, values: Mapping[str, Any]) -> float:
        """P(positive) of one row given as {feature: value}."""
        return float(self._probabilities(self.encoding.encode_row(values))[0])

    def predict_frame(self, frame: pl.DataFrame | pd.DataFrame) -> np.ndarray:
        """P(positive) per row of a frame holding the feature columns."""
        # XGBoost compares in float32: encoding straight to float32 gives the same trees' input.
        return self._probabilities(self.encoding.encode_frame(frame, np.float32))

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """0/1 at the model's threshold (FixedThresholdClassifier decides `>=`)."""
        if self.threshold is None:
            raise ValueError("the compiled model carries no decision threshold")
        return (probabilities >= self.threshold).astype(np.int64)

    def _probabilities(self, encoded: np.ndarray) -> np.ndarray:
        scores = self.booster.inplace_predict(encoded, iteration_range=self.iteration_range)
        return self.calibration.apply(np.asarray(scores, dtype=np.float64))

    def save(self, directory: Path) -> None:
        self.booster.save_model(str(directory / TREES_FILE))
        spec = {
            "encoding": self.encoding.to_json(),
            "iteration_range": list(self.iteration_range),
            "calibration": self.calibration.to_json(),
            "threshold": self.threshold,
        }
        (directory / "tabular.json").write_text(json.dumps(spec))

    @classmethod
    def load(cls, directory: Path, threads: int = 1) -> CompiledTabularClassifier:
        spec = json.loads((directory / "tabular.json").read_text())
        return cls(
            encoding=TabularEncoding.from_json(spec["encoding"]),
            booster=booster_from_file(directory / TREES_FILE, threads),
            iteration_range=(int(spec["iteration_range"][0]), int(spec["iteration_range"][1])),
            calibration=Calibration.from_json(spec["calibration"]),
            threshold=spec["threshold"],
        )

    def set_threads(self, threads: int) -> None:
        self.booster.set_param({"nthread": threads})


def _iteration_range(classifier: xgb.XGBClassifier) -> tuple[int, int]:
    """The trees `predict_proba` uses: up to the best iteration after early stopping, else all."""
    try:
        return (0, int(classifier.best_iteration) + 1)
    except AttributeError:
        return (0, 0)
