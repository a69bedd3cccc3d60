"""The document classifier learns the types from text and page images, and ships as a pyfunc."""

from __future__ import annotations

import mlflow.pyfunc
import numpy as np
import pytest
import torch

from roi_assets.documents.classifier import (
    DOCUMENT_TYPES,
    ClassifierConfig,
    DocumentClassifier,
    compare_variants,
)
from roi_assets.documents.classifier_pyfunc import pyfunc_input, pyfunc_signature, save_pyfunc
from roi_assets.documents.image_features import CnnConfig, page_thumbnail, thumbnails_of
from roi_assets.simulator.documents.writer import simulate_document

torch.set_num_threads(1)

FAST = ClassifierConfig(cnn=CnnConfig(epochs=8, min_steps=60), n_estimators=60, cnn_folds=2, seed=3)


@pytest.fixture(scope="module")
def corpus():
    """Six documents of each type (clean text stands in for OCR text to keep the test fast)."""
    docs = [
        simulate_document(i, 17, dpi=72, doc_type=DOCUMENT_TYPES[i % len(DOCUMENT_TYPES)])
        for i in range(6 * len(DOCUMENT_TYPES))
    ]
    texts = [d.clean_text for d in docs]
    thumbnails = thumbnails_of([d.pages[0] for d in docs])
    labels = [d.doc_type for d in docs]
    return texts, thumbnails, labels


@pytest.fixture(scope="module")
def fitted(corpus):
    texts, thumbnails, labels = corpus
    return DocumentClassifier(FAST).fit(texts, thumbnails, labels)


def test_on_a_tiny_generated_set_every_variant_beats_the_majority_class(corpus):
    texts, thumbnails, labels = corpus
    reports = compare_variants(texts, thumbnails, labels, config=FAST, test_size=1 / 3)
    majority = reports["majority"].accuracy
    assert reports["combined"].accuracy > majority + 0.3
    assert reports["text"].accuracy > majority + 0.3
    assert reports["image"].accuracy > majority + 0.3
    combined = reports["combined"]
    assert set(combined.per_class_f1) == set(DOCUMENT_TYPES)
    assert np.array(combined.confusion).shape == (9, 9)
    assert np.array(combined.confusion).sum() == combined.n_test


def test_the_image_half_is_cross_fitted_so_every_training_page_has_out_of_fold_scores(
    fitted, corpus
):
    _, thumbnails, labels = corpus
    assert len(fitted.cnn.fold_states) == FAST.cnn_folds
    assert fitted.cnn.oof.shape == (len(labels), len(DOCUMENT_TYPES))
    assert np.allclose(fitted.cnn.oof.sum(axis=1), 1.0, atol=1e-5)
    new = fitted.cnn.predict_proba(thumbnails[:4])
    assert np.allclose(new.sum(axis=1), 1.0, atol=1e-5)
    # a page's out-of-fold score is not the ensemble's score of a page it helped train on
    assert not np.allclose(fitted.cnn.oof[:4], new, atol=1e-3)


def test_predictions_come_with_a_confidence_and_cover_all_nine_types(fitted, corpus):
    texts, thumbnails, _ = corpus
    proba = fitted.predict_proba(texts[:5], thumbnails[:5])
    assert proba.shape == (5, 9)
    assert np.allclose(proba.sum(axis=1), 1.0)
    types, confidence = fitted.predict(texts[:5], thumbnails[:5])
    assert set(types) <= set(DOCUMENT_TYPES)
    assert np.allclose(confidence, proba.max(axis=1))


def test_a_saved_classifier_loads_and_predicts_the_same(fitted, corpus, tmp_path):
    texts, thumbnails, _ = corpus
    fitted.save(tmp_path / "classifier.pkl")
    loaded = DocumentClassifier.load(tmp_path / "classifier.pkl")
    assert np.allclose(
        loaded.predict_proba(texts, thumbnails), fitted.predict_proba(texts, thumbnails)
    )


def test_the_pyfunc_model_scores_a_frame_like_the_classifier(fitted, corpus, tmp_path):
    texts, thumbnails, _ = corpus
    signature = pyfunc_signature(fitted, texts[:3], thumbnails[:3])
    save_pyfunc(fitted, tmp_path / "model", tmp_path, signature=signature)
    model = mlflow.pyfunc.load_model(str(tmp_path / "model"))
    scored = model.predict(pyfunc_input(texts[:6], thumbnails[:6]))
    expected, confidence = fitted.predict(texts[:6], thumbnails[:6])
    assert list(scored["predicted_type"]) == expected
    assert np.allclose(scored["confidence"], confidence)
    assert {f"p_{t}" for t in DOCUMENT_TYPES} <= set(scored.columns)


def test_a_thumbnail_is_inverted_and_stretched_so_faint_and_clean_pages_look_alike():
    page = np.full((1100, 850), 255, np.uint8)
    page[100:140, 100:700] = 0
    faint = (page * 0.3 + 160).astype(np.uint8)  # grey paper, grey ink
    clean_thumb, faint_thumb = page_thumbnail(page), page_thumbnail(faint)
    assert clean_thumb.shape == (128, 128)
    assert clean_thumb.max() == pytest.approx(1.0) and clean_thumb.min() == pytest.approx(0.0)
    assert np.abs(clean_thumb - faint_thumb).max() < 0.05


def test_an_unknown_feature_set_and_an_unfitted_model_are_refused():
    with pytest.raises(ValueError, match="features"):
        DocumentClassifier(features="audio")
    with pytest.raises(RuntimeError, match="fitted"):
        DocumentClassifier().predict_proba(["text"], np.zeros((1, 128, 128), np.float32))
