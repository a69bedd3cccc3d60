"""Small pyfunc models with the product's input and output shapes, registered where training the
real ones would cost minutes (the churn ensemble, the document classifier)."""

from __future__ import annotations

import mlflow.pyfunc
import numpy as np
import pandas as pd

from roi_assets.churn.features import CHURN_FEATURES
from roi_assets.churn.tiers import risk_tier
from roi_assets.documents.classifier import DOCUMENT_TYPES
from roi_assets.documents.classifier_pyfunc import predictions_frame


class ChurnStandIn(mlflow.pyfunc.PythonModel):
    """Churn probability = the first churn feature, clipped to [0, 1]; the pyfunc's output frame."""

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        probability = np.clip(model_input[CHURN_FEATURES[0]].to_numpy(dtype=float), 0, 1)
        return pd.DataFrame(
            {
                "probability": probability,
                "tier": risk_tier(probability),
                "forest_probability": probability,
                "lstm_probability": probability,
            }
        )


class DocumentClassifierStandIn(mlflow.pyfunc.PythonModel):
    """Always the first document type, with 90 % confidence."""

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        proba = np.full((len(model_input), len(DOCUMENT_TYPES)), 0.1 / (len(DOCUMENT_TYPES) - 1))
        proba[:, 0] = 0.9
        return predictions_frame(proba)
