"""Global SHAP importance of the document classifier's LightGBM, no Dagster.

The booster reads TF-IDF n-grams of the OCR text and, for the combined classifier, the page CNN's
class probabilities; `DocumentClassifier.feature_names` names them `token:<n-gram>` and
`image:<index>` (the index is the type's position in `DOCUMENT_TYPES`). Contributions are in the
booster's log-odds, averaged in magnitude over the nine types by `explain.global_importance`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import polars as pl

from roi_assets.documents.classifier import DocumentClassifier
from roi_assets.documents.image_features import torch_threads
from roi_assets.documents.labelled_corpus import classifier_inputs
from roi_assets.monitoring.explain.explanations import TreeView, global_importance

MAX_DOCUMENTS = 200
TOP_FEATURES = 30
PLOTTED_FEATURES = 15


def sample_documents(corpus: pl.DataFrame, n: int = MAX_DOCUMENTS, seed: int = 0) -> pl.DataFrame:
    """A reproducible sample of the labelled archive: SHAP on 5,000 columns is costly per row."""
    return corpus.sample(n, seed=seed) if corpus.height > n else corpus


def classifier_view(classifier: DocumentClassifier) -> TreeView:
    """The classifier's booster as `explain` sees it; rows are (texts, thumbnails) pairs."""

    def to_matrix(rows: tuple[Sequence[str], np.ndarray]) -> np.ndarray:
        texts, thumbnails = rows
        with torch_threads(1):
            return classifier.feature_matrix(texts, thumbnails).toarray()

    return TreeView(classifier.booster, tuple(classifier.feature_names()), to_matrix, "log-odds")


def document_importance(
    classifier: DocumentClassifier,
    texts: Sequence[str],
    thumbnails: np.ndarray,
    top: int = TOP_FEATURES,
) -> pl.DataFrame:
    """The `top` features by mean |SHAP| over these documents (feature, mean_abs_shap, rank)."""
    view = classifier_view(classifier)
    importance, _ = global_importance(view, view.matrix((texts, thumbnails)))
    return importance.head(top)


def corpus_importance(
    classifier: DocumentClassifier, corpus: pl.DataFrame, seed: int = 0
) -> pl.DataFrame:
    """`document_importance` on at most `MAX_DOCUMENTS` documents of the labelled archive."""
    texts, thumbnails, _ = classifier_inputs(sample_documents(corpus, MAX_DOCUMENTS, seed))
    return document_importance(classifier, texts, thumbnails)


def importance_bar_png(importance: pl.DataFrame, title: str, top: int = PLOTTED_FEATURES) -> bytes:
    """A horizontal bar chart of the `top` features, the strongest on top, as PNG bytes."""
    shown = importance.sort("rank").head(top)
    figure, axes = plt.subplots(figsize=(7, 0.3 * shown.height + 1.2))
    axes.barh(shown["feature"].to_list()[::-1], shown["mean_abs_shap"].to_list()[::-1])
    axes.set_xlabel("mean |SHAP| (log-odds, over types)")
    axes.set_title(title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()
