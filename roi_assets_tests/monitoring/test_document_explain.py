"""The document classifier's global SHAP importance names the columns its booster reads and ranks
the word that decides the type first."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import torch

from roi_assets.documents.classifier import ClassifierConfig, DocumentClassifier
from roi_assets.documents.image_features import THUMBNAIL_SIZE, CnnConfig
from roi_assets.documents.labelled_corpus import classifier_inputs
from roi_assets.monitoring.explain.document_explain import (
    TOP_FEATURES,
    corpus_importance,
    importance_bar_png,
    sample_documents,
)

torch.set_num_threads(1)

TINY = ClassifierConfig(cnn=CnnConfig(epochs=4, min_steps=20), n_estimators=30, cnn_folds=2)
FILLER = ("property", "buyer", "seller", "closing", "parcel", "county", "signed", "date")
DECIDING_WORD = "zephyr"


@pytest.fixture(scope="module")
def corpus() -> pl.DataFrame:
    """Sixty documents of noise pages and filler words; only purchase agreements say `zephyr`."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(60):
        doc_type = "purchase_agreement" if i % 2 else "inspection_report"
        words = list(rng.choice(FILLER, size=12))
        if doc_type == "purchase_agreement":
            words.insert(int(rng.integers(len(words))), DECIDING_WORD)
        page = rng.random((THUMBNAIL_SIZE, THUMBNAIL_SIZE), dtype=np.float32)
        rows.append({"text": " ".join(words), "thumbnail": page.tobytes(), "doc_type": doc_type})
    return pl.DataFrame(rows)


@pytest.fixture(scope="module")
def classifier(corpus: pl.DataFrame) -> DocumentClassifier:
    texts, thumbnails, labels = classifier_inputs(corpus)
    return DocumentClassifier(TINY).fit(texts, thumbnails, labels)


def test_the_word_that_decides_the_type_ranks_first(classifier, corpus):
    importance = corpus_importance(classifier, corpus)
    assert importance["feature"][0] == f"token:{DECIDING_WORD}"
    assert importance["rank"].to_list() == list(range(1, importance.height + 1))
    assert importance["mean_abs_shap"].is_sorted(descending=True)


def test_every_column_has_a_readable_name_and_at_most_thirty_are_kept(classifier, corpus):
    names = classifier.feature_names()
    assert len(names) == classifier.booster.n_features_in_
    assert [n for n in names if n.startswith("image:")] == [f"image:{i}" for i in range(9)]
    assert all(n.startswith(("token:", "image:")) for n in names)
    assert corpus_importance(classifier, corpus).height <= TOP_FEATURES


def test_a_large_archive_is_sampled_down_reproducibly(corpus):
    archive = pl.concat([corpus] * 5)
    sample = sample_documents(archive, 200, seed=1)
    assert sample.height == 200
    assert sample.equals(sample_documents(archive, 200, seed=1))
    assert sample_documents(corpus, 200).height == corpus.height


def test_the_bar_plot_is_a_png(classifier, corpus):
    png = importance_bar_png(corpus_importance(classifier, corpus), "importance")
    assert png.startswith(b"\x89PNG")
