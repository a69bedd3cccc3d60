"""The churn ensemble compiled: forest and LSTM through ONNX Runtime, the stack as arithmetic.

The forest (scikit-learn) is converted with skl2onnx on float64 inputs; the LSTM network is
exported with torch's ONNX exporter, its input scaling (log1p of the count metrics, then the
training mean and deviation) kept as arrays; the meta-learner is its coefficients and the
calibrator its plain numbers (`ProbabilityCalibrator.to_dict`). Each step is computed in the dtype
the pipeline uses, so the probabilities agree to 1e-6.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from scipy.special import expit

from roi_assets.churn.calibration import ProbabilityCalibrator
from roi_assets.churn.ensemble import STACK, UNCALIBRATED, ChurnEnsemble, stack_inputs
from roi_assets.churn.features import CHURN_FEATURES, DAILY_METRICS, SEQUENCE_DAYS
from roi_assets.churn.tiers import risk_tier
from roi_assets.compiled_scoring.conversion import export_forest, export_network
from roi_assets.compiled_scoring.encoding import NotCompilable
from roi_assets.compiled_scoring.runtimes import onnx_session

KIND = "churn_ensemble"
FOREST_FILE = "forest.onnx"
LSTM_FILE = "lstm.onnx"


@dataclass
class CompiledChurnEnsemble:
    """Churn probability from the 20 features and the 30 × 15 daily metrics."""

    forest: ort.InferenceSession
    lstm: ort.InferenceSession
    log_scaled: np.ndarray  # bool per daily metric
    mean: np.ndarray  # float32 per daily metric
    std: np.ndarray
    meta_coefficients: np.ndarray  # (2,) for the forest and LSTM logits
    meta_intercept: float
    calibrator: ProbabilityCalibrator | None  # None for an ensemble saved before calibration

    kind = KIND

    @staticmethod
    def write(ensemble: ChurnEnsemble, directory: Path) -> None:
        """Convert the fitted members into files in `directory`."""

        if ensemble.forest_ is None or ensemble.lstm_ is None or ensemble.meta_learner_ is None:
            raise NotCompilable("the churn ensemble is not fitted")
        export_forest(ensemble.forest_, len(CHURN_FEATURES), directory / FOREST_FILE)
        export_network(
            ensemble.lstm_.network,
            np.zeros((1, SEQUENCE_DAYS, len(DAILY_METRICS)), np.float32),
            directory / LSTM_FILE,
            input_name="sequences",
            output_name="logits",
        )
        meta = ensemble.meta_learner_
        spec = {
            "log_scaled": _log_scaled_metrics().tolist(),
            "mean": np.asarray(ensemble.lstm_.mean, np.float32).ravel().tolist(),
            "std": np.asarray(ensemble.lstm_.std, np.float32).ravel().tolist(),
            "meta_coefficients": meta.coef_.ravel().tolist(),
            "meta_intercept": float(meta.intercept_[0]),
            "calibrator": None if ensemble.calibrator_ is None else ensemble.calibrator_.to_dict(),
        }
        (directory / "churn.json").write_text(json.dumps(spec))

    @classmethod
    def load(cls, directory: Path, threads: int = 1) -> CompiledChurnEnsemble:
        spec = json.loads((directory / "churn.json").read_text())
        return cls(
            forest=onnx_session(directory / FOREST_FILE, threads),
            lstm=onnx_session(directory / LSTM_FILE, threads),
            log_scaled=np.asarray(spec["log_scaled"], dtype=bool),
            mean=np.asarray(spec["mean"], dtype=np.float32),
            std=np.asarray(spec["std"], dtype=np.float32),
            meta_coefficients=np.asarray(spec["meta_coefficients"], dtype=np.float64),
            meta_intercept=float(spec["meta_intercept"]),
            calibrator=None
            if spec.get("calibrator") is None
            else ProbabilityCalibrator.from_dict(spec["calibrator"]),
        )

    def member_probabilities(
        self, features: np.ndarray, sequences: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Forest, LSTM and stacked probabilities (before and after calibration) per row, as
        `ChurnEnsemble` gives them."""
        features = np.ascontiguousarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[1] != len(CHURN_FEATURES):
            raise ValueError(f"expected (n, {len(CHURN_FEATURES)}) features, got {features.shape}")
        if not np.isfinite(features).all():
            raise ValueError("churn features must be finite")
        expected = (SEQUENCE_DAYS, len(DAILY_METRICS))
        shape_ok = sequences.ndim == 3 and sequences.shape[1:] == expected
        if not shape_ok or len(sequences) != len(features):
            raise ValueError(f"expected sequences of shape (n, {expected[0]}, {expected[1]})")
        # scikit-learn's trees compare float32 features with float64 thresholds: round the same way.
        as_forest_sees = features.astype(np.float32).astype(np.float64)
        forest = self.forest.run(["probabilities"], {"features": as_forest_sees})[0][:, 1]
        logits = self.lstm.run(["logits"], {"sequences": self._scaled(sequences)})[0]
        lstm = expit(logits.reshape(-1)).astype(np.float64)
        decision = stack_inputs(forest, lstm) @ self.meta_coefficients + self.meta_intercept
        raw = expit(decision)
        stack = raw if self.calibrator is None else self.calibrator.transform(raw)
        return {"forest": forest.astype(np.float64), "lstm": lstm, UNCALIBRATED: raw, STACK: stack}

    def predict(self, features: np.ndarray, sequences: np.ndarray) -> tuple[np.ndarray, Any]:
        """(probabilities, tiers) per row."""
        probabilities = self.member_probabilities(features, sequences)[STACK]
        return probabilities, risk_tier(probabilities)

    def _scaled(self, sequences: np.ndarray) -> np.ndarray:
        sequences = np.asarray(sequences, dtype=np.float32)
        logged = np.where(self.log_scaled, np.log1p(np.maximum(sequences, 0)), sequences)
        return np.ascontiguousarray((logged.astype(np.float32) - self.mean) / self.std)


def _log_scaled_metrics() -> np.ndarray:
    from roi_assets.churn.sequence_model import LOG_SCALED_METRICS

    return np.asarray(LOG_SCALED_METRICS, dtype=bool)
