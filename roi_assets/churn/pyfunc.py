"""The churn ensemble as an MLflow pyfunc model, so the registry loads and serves it like any other.

MLflow models take one table, so the 30 × 15 daily sequence travels flattened next to the 20 churn
features, in columns `<metric>_d<k>` with k = 00 (30 days before the snapshot) … 29 (the day
before); `pyfunc_input_frame` builds that table. Log with
`mlflow.pyfunc.log_model(name=..., python_model=ChurnPyfuncModel(),
artifacts={ARTIFACT_KEY: <directory written by ChurnEnsemble.save>},
pip_requirements=pyfunc_requirements())`; `predict_frame` gives the output of a fitted ensemble
without packaging it (what the signature is inferred from). `unwrap_python_model().ensemble` of a
loaded model is the ensemble itself, for explanations.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd

from roi_assets.churn.ensemble import ChurnEnsemble
from roi_assets.churn.features import (
    CHURN_FEATURES,
    DAILY_METRICS,
    SEQUENCE_DAYS,
    tabular_matrix,
)
from roi_assets.churn.tiers import risk_tier

ARTIFACT_KEY = "churn_ensemble"
SEQUENCE_COLUMNS: tuple[str, ...] = tuple(
    f"{metric}_d{day:02d}" for day in range(SEQUENCE_DAYS) for metric in DAILY_METRICS
)
_RUNTIME_PACKAGES = ("torch", "scikit-learn", "skops", "numpy", "pandas")


def pyfunc_requirements() -> list[str]:
    """The ensemble's runtime, pinned to this environment. Pinned rather than inferred: MLflow's
    inference loads the model in a subprocess, which is slow."""
    return [f"{package}=={version(package)}" for package in _RUNTIME_PACKAGES]


def pyfunc_input_frame(tabular: Any, sequences: np.ndarray) -> pd.DataFrame:
    """The pyfunc model's input: churn features plus the flattened daily sequences."""
    features = tabular_matrix(tabular)
    flat = sequences.reshape(len(sequences), -1).astype(np.float64)
    return pd.DataFrame(np.hstack([features, flat]), columns=[*CHURN_FEATURES, *SEQUENCE_COLUMNS])


def predict_frame(ensemble: ChurnEnsemble, model_input: pd.DataFrame) -> pd.DataFrame:
    """Per row: the stacked churn probability, its risk tier and each member's probability."""
    sequences = (
        model_input[list(SEQUENCE_COLUMNS)]
        .to_numpy(dtype=np.float32)
        .reshape(len(model_input), SEQUENCE_DAYS, len(DAILY_METRICS))
    )
    scores = ensemble.member_probabilities(model_input, sequences)
    return pd.DataFrame(
        {
            "probability": scores["stack"],
            "tier": risk_tier(scores["stack"]),
            "forest_probability": scores["forest"],
            "lstm_probability": scores["lstm"],
        }
    )


class ChurnPyfuncModel(mlflow.pyfunc.PythonModel):
    """Loads a saved ChurnEnsemble from the model's artifacts and scores input frames."""

    def load_context(self, context: Any) -> None:
        self.ensemble = ChurnEnsemble.load(context.artifacts[ARTIFACT_KEY])

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """See `predict_frame`."""
        return predict_frame(self.ensemble, model_input)
