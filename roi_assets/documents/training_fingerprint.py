"""Everything a document classifier is fitted from, as one hash: the same fingerprint, the same
model.

The labelled archive changes only when documents are labelled, so most weekly retrains
(`weekly_retrain`) and drift retrains (`refresh_all`) would fit, evaluate, gate and shadow-test
the very model the registry already holds: about 45 s of a live Sunday on the default world.
Training is seeded (LightGBM deterministic and single-threaded, the page CNN's torch generator),
so the model is a function of what the fingerprint covers: the training documents' texts,
thumbnails and labels in order, the classifier's configuration, the source of the modules that
fit and package it, and the versions of the libraries they call. The fingerprint is kept as a
tag of the registered version; `document_classifier` does not retrain while the candidate carries
the fingerprint it would train on.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Sequence
from importlib import metadata

import numpy as np
from mlflow import MlflowClient

from roi_assets.documents import classifier, classifier_pyfunc, image_features
from roi_assets.documents.classifier import ClassifierConfig
from roi_assets.resources.tracking import CANDIDATE, version_behind_alias

FINGERPRINT_TAG = "training_fingerprint"
TRAINING_CODE = (classifier, image_features, classifier_pyfunc)
LIBRARIES = ("lightgbm", "torch", "scikit-learn", "numpy", "scipy")


def training_fingerprint(
    texts: Sequence[str],
    thumbnails: np.ndarray,
    labels: Sequence[str],
    config: ClassifierConfig,
) -> str:
    """SHA-256 (hex) of the training inputs, configuration, code and library versions."""
    if not len(texts) == len(thumbnails) == len(labels):
        raise ValueError("texts, thumbnails and labels differ in length")
    digest = hashlib.sha256()

    def add(part: str | bytes) -> None:
        data = part.encode("utf-8") if isinstance(part, str) else part
        # each part is length-prefixed, so ("ab", "c") and ("a", "bc") hash apart
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)

    for module in TRAINING_CODE:
        add(inspect.getsource(module))
    for library in LIBRARIES:
        add(f"{library}=={metadata.version(library)}")
    add(repr(config))
    for text, label in zip(texts, labels, strict=True):
        add(text)
        add(label)
    add(np.ascontiguousarray(thumbnails, dtype=np.float32).tobytes())
    return digest.hexdigest()


def candidate_trained_on(client: MlflowClient, model_name: str, fingerprint: str) -> str | None:
    """The model's candidate version when it was trained on exactly this fingerprint, else None."""
    version = version_behind_alias(model_name, CANDIDATE, client)
    if version is None:
        return None
    tags = client.get_model_version(model_name, version).tags
    return version if tags.get(FINGERPRINT_TAG) == fingerprint else None
