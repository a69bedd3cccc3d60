"""The document classifier as an MLflow pyfunc model, for the registry and the serving API.

Input: a DataFrame with `text` (the OCR text) and `thumbnail` (the first page's thumbnail from
`image_features.page_thumbnail`, flattened to an array of floats). Output: `predicted_type`,
`confidence` and one probability column `p_<type>` per type. The fitted classifier travels as an
artifact file written by `DocumentClassifier.save`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature, infer_signature

from roi_assets.documents.classifier import DOCUMENT_TYPES, DocumentClassifier

ARTIFACT_KEY = "classifier"
PIP_REQUIREMENTS = ("lightgbm", "numpy", "pandas", "scikit-learn", "scipy", "torch")


def pyfunc_input(texts: Sequence[str], thumbnails: np.ndarray) -> pd.DataFrame:
    """The model's input frame for documents' OCR texts and (N, size, size) thumbnails."""
    return pd.DataFrame(
        {"text": list(texts), "thumbnail": [t.astype(np.float64).ravel() for t in thumbnails]}
    )


def predictions_frame(proba: np.ndarray) -> pd.DataFrame:
    """Predicted type, its probability and every type's probability, one row per document."""
    best = proba.argmax(axis=1)
    out = pd.DataFrame(
        {
            "predicted_type": [DOCUMENT_TYPES[i] for i in best],
            "confidence": proba[np.arange(len(best)), best],
        }
    )
    for i, name in enumerate(DOCUMENT_TYPES):
        out[f"p_{name}"] = proba[:, i]
    return out


class DocumentClassifierModel(mlflow.pyfunc.PythonModel):
    """Loads the fitted classifier from its artifact and scores frames of documents."""

    def load_context(self, context: Any) -> None:
        self.classifier = DocumentClassifier.load(Path(context.artifacts[ARTIFACT_KEY]))

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None):
        flat = np.stack([np.asarray(t, np.float32) for t in model_input["thumbnail"]])
        side = round(np.sqrt(flat.shape[1]))
        proba = self.classifier.predict_proba(
            list(model_input["text"]), flat.reshape(len(flat), side, side)
        )
        return predictions_frame(proba)


def pyfunc_signature(
    classifier: DocumentClassifier, texts: Sequence[str], thumbnails: np.ndarray
) -> ModelSignature:
    """The signature inferred from an example batch and the classifier's output on it."""
    return infer_signature(
        pyfunc_input(texts, thumbnails),
        predictions_frame(classifier.predict_proba(texts, thumbnails)),
    )


def save_pyfunc(
    classifier: DocumentClassifier,
    path: Path,
    artifact_dir: Path,
    signature: ModelSignature | None = None,
) -> None:
    """Write an MLflow model directory at `path`; the artifact file is staged in `artifact_dir`.

    For the registry use `mlflow.pyfunc.log_model` with the same `python_model`, `artifacts` and
    `signature`.
    """
    artifact = Path(artifact_dir) / "document_classifier.pkl"
    classifier.save(artifact)
    mlflow.pyfunc.save_model(
        path=str(path),
        python_model=DocumentClassifierModel(),
        artifacts={ARTIFACT_KEY: str(artifact)},
        signature=signature,
        pip_requirements=list(PIP_REQUIREMENTS),
    )
