"""A document classifier is retrained only when what it would be fitted from has changed."""

from __future__ import annotations

import hashlib

import dagster as dg
import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from roi_assets.documents.assets import MODEL_NAME, document_classifier
from roi_assets.documents.classifier import DOCUMENT_TYPES, ClassifierConfig
from roi_assets.documents.document_reading import DocumentReading
from roi_assets.documents.image_features import CnnConfig, page_thumbnail
from roi_assets.documents.labelled_corpus import corpus_frame
from roi_assets.documents.ocr import Engine, OcrResult
from roi_assets.documents.training_fingerprint import FINGERPRINT_TAG, training_fingerprint
from roi_assets.resources.mlflow_tracking import mlflow_resource
from roi_assets.resources.tracking import CANDIDATE, version_behind_alias
from roi_assets.simulator.documents.writer import encode_document, simulate_document

CONFIG = ClassifierConfig(cnn=CnnConfig(epochs=2, min_steps=4), n_estimators=5, cnn_folds=2)
TEXTS = ["purchase agreement between buyer and seller", "hoa dues and bylaws"]
THUMBNAILS = np.zeros((2, 8, 8), np.float32)
LABELS = ["purchase_agreement", "hoa_docs"]


def test_the_same_inputs_give_the_same_fingerprint():
    assert training_fingerprint(TEXTS, THUMBNAILS, LABELS, CONFIG) == training_fingerprint(
        list(TEXTS), THUMBNAILS.copy(), list(LABELS), CONFIG
    )


@pytest.mark.parametrize(
    ("texts", "thumbnails", "labels", "config"),
    [
        (["purchase agreement between buyer and seIler", TEXTS[1]], THUMBNAILS, LABELS, CONFIG),
        (TEXTS, THUMBNAILS + np.eye(8, dtype=np.float32), LABELS, CONFIG),
        (TEXTS, THUMBNAILS, ["purchase_agreement", "other"], CONFIG),
        (TEXTS[::-1], THUMBNAILS, LABELS[::-1], CONFIG),
        (TEXTS, THUMBNAILS, LABELS, ClassifierConfig(n_estimators=6)),
        (
            ["purchase agreement between buyer and", "seller hoa dues and bylaws"],
            THUMBNAILS,
            LABELS,
            CONFIG,
        ),
    ],
    ids=["a text", "a thumbnail", "a label", "the order", "the configuration", "a boundary"],
)
def test_any_change_to_what_the_fit_reads_changes_the_fingerprint(
    texts, thumbnails, labels, config
):
    assert training_fingerprint(texts, thumbnails, labels, config) != training_fingerprint(
        TEXTS, THUMBNAILS, LABELS, CONFIG
    )


def test_texts_thumbnails_and_labels_must_pair_up():
    with pytest.raises(ValueError, match="differ in length"):
        training_fingerprint(TEXTS, THUMBNAILS[:1], LABELS, CONFIG)


def _corpus(relabel: str | None = None):
    docs = [simulate_document(i, 29, dpi=72, doc_type=t) for i, t in enumerate(DOCUMENT_TYPES * 3)]
    readings = [
        DocumentReading(
            OcrResult(d.clean_text, Engine.TEXT_LAYER, 1.0, None, 1, 0.1, False),
            page_thumbnail(d.pages[0]),
        )
        for d in docs
    ]
    labels = [d.doc_type for d in docs]
    if relabel is not None:
        labels[0] = relabel
    rows = [
        (f"labelled/{d.file_name}", label, hashlib.sha256(encode_document(d)).hexdigest())
        for d, label in zip(docs, labels, strict=True)
    ]
    return corpus_frame(rows, readings)


def _materialize(corpus):
    @dg.asset(key=["raw", "labelled_documents"])
    def labelled_documents():
        return corpus

    @dg.asset(deps=[document_classifier])
    def evaluation():
        return dg.MaterializeResult()

    config = {"n_estimators": 5, "cnn_epochs": 2, "cnn_min_steps": 4, "cnn_folds": 2}
    return dg.materialize(
        [labelled_documents, document_classifier, evaluation],
        resources={"mlflow": mlflow_resource()},
        run_config={"ops": {"document_classifier": {"config": config}}},
    )


@pytest.fixture
def own_registry(tmp_path, monkeypatch):
    """An MLflow store of the test's own (the session's holds the graph's classifier). After the
    test, the runs dagster-mlflow left open in it are ended there, and the tracking URI the
    resource set process-wide is put back."""
    previous = mlflow.get_tracking_uri()
    monkeypatch.setenv("ROI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    yield
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(previous)


def test_an_unchanged_archive_is_not_retrained_and_its_evaluation_is_skipped(own_registry):
    first = _materialize(_corpus())
    trained = version_behind_alias(MODEL_NAME, CANDIDATE, MlflowClient())

    again = _materialize(_corpus())

    assert first.success and again.success
    assert [m.asset_key for m in again.get_asset_materialization_events()] == [
        dg.AssetKey(["raw", "labelled_documents"])
    ]
    skipped = {
        e.step_key for e in again.all_events if e.event_type == dg.DagsterEventType.STEP_SKIPPED
    }
    assert "evaluation" in skipped
    observed = again.get_asset_observation_events()[0].asset_observation_data.asset_observation
    assert observed.metadata["unchanged_candidate"].value == trained
    assert version_behind_alias(MODEL_NAME, CANDIDATE, MlflowClient()) == trained

    relabelled = _materialize(_corpus(relabel="other"))

    retrained = version_behind_alias(MODEL_NAME, CANDIDATE, MlflowClient())
    assert retrained == str(int(trained) + 1)
    tags = MlflowClient().get_model_version(MODEL_NAME, retrained).tags
    assert tags[FINGERPRINT_TAG] != observed.metadata["training_fingerprint"].value
    assert dg.AssetKey("evaluation") in {
        m.asset_key for m in relabelled.get_asset_materialization_events()
    }
