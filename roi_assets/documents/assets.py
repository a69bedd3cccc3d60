"""Document intelligence assets.

Unpartitioned, refreshed with the rest of the graph: the labelled archive read like arrivals, the
classifier trained on it and registered as `candidate`, its evaluation on held-out documents
(behind a blocking gate) and the promotion that follows the gate.

Per landed document (dynamic partitions keyed by content hash, launched by the arrival sensor):
`raw/document_ocr`, which checks the file at intake (a refused file goes to raw.quarantine and
stops there) and reads it, and `marts/document_classifications`, the champion classifier's type,
the entities and the review flag. Both are stored per partition, so re-running a document
replaces its rows.
"""

import datetime as dt
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import dagster as dg
import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
import polars as pl
from dagster_duckdb import DuckDBResource
from mlflow import MlflowClient

from roi_assets import settings
from roi_assets.catalog import (
    DOCUMENT_CLASSIFICATIONS,
    DOCUMENT_CLASSIFIER_MODEL,
    DOCUMENT_HELD_OUT_FRACTION,
    DOCUMENT_SPLIT_SEED,
)
from roi_assets.deployment.lifecycle import admit_candidate, serving_plan
from roi_assets.documents.classifier import (
    REVIEW_BELOW_CONFIDENCE,
    ClassifierConfig,
    DocumentClassifier,
)
from roi_assets.documents.classifier_evaluation import (
    CLEAN_TEXT,
    evaluate_on_held_out,
    evaluation_window,
)
from roi_assets.documents.classifier_pyfunc import (
    ARTIFACT_KEY,
    PIP_REQUIREMENTS,
    DocumentClassifierModel,
    pyfunc_input,
)
from roi_assets.documents.document_reading import ReadingCache, first_page_thumbnail, read_documents
from roi_assets.documents.entities import Entity, entities_json, extract_entities
from roi_assets.documents.entity_evaluation import (
    ENTITY_MODEL_NAME,
    EXTRACTOR_VERSION,
    evaluate_entities,
)
from roi_assets.documents.gate import recorded_verdict
from roi_assets.documents.image_features import CnnConfig, torch_threads
from roi_assets.documents.intake import IntakeResult, content_sha256, validate_document
from roi_assets.documents.labelled_corpus import (
    classifier_inputs,
    corpus_frame,
    held_out_split,
    labelled_files,
)
from roi_assets.documents.landed import (
    document_key,
    find_landed,
    landed_name,
    local_copy,
    local_path,
)
from roi_assets.documents.ocr import OcrResult
from roi_assets.documents.pages import DEFAULT_DPI
from roi_assets.documents.quarantine import quarantine_document, quarantine_reason
from roi_assets.documents.training_fingerprint import (
    FINGERPRINT_TAG,
    candidate_trained_on,
    training_fingerprint,
)
from roi_assets.evaluation.model_evaluations import write_model_evaluations
from roi_assets.evaluation.truth_tables import document_clean_texts, document_true_entities
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.storage import LandingZoneResource
from roi_assets.resources.tracking import (
    CANDIDATE,
    CHAMPION,
    log_flavour_model,
    registered_version,
    set_alias,
)
from roi_assets.resources.warehouse import WAREHOUSE_POOL

MODEL_NAME = DOCUMENT_CLASSIFIER_MODEL
INCOMING_FOLDER = "documents"  # where new documents land, relative to the landing zone's root
INCOMING_SOURCE = "documents"  # `source` of refused arrivals in raw.quarantine
LABELLED_SOURCE = "labelled_documents"
HELD_OUT_FRACTION = DOCUMENT_HELD_OUT_FRACTION
SPLIT_SEED = DOCUMENT_SPLIT_SEED

documents_partitions = dg.DynamicPartitionsDefinition(name="documents")


def reading_cache() -> ReadingCache:
    return ReadingCache(settings.data_dir() / "cache" / "document_readings")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class DocumentReadingConfig(dg.Config):
    """How documents are read: the resolution PDF pages are rendered at for OCR, and how many
    documents are read at once (each by a single-threaded Tesseract)."""

    render_dpi: int = DEFAULT_DPI
    workers: int = 2


@dg.asset(
    key=["raw", "labelled_documents"],
    group_name="documents",
    kinds={"tesseract", "duckdb"},
    pool=WAREHOUSE_POOL,
)
def labelled_documents(
    context: dg.AssetExecutionContext,
    config: DocumentReadingConfig,
    landing_zone: LandingZoneResource,
    duckdb: DuckDBResource,
) -> pl.DataFrame:
    """The archive filed by type (landing/labelled_documents/<type>/), each file checked at
    intake and read by the same OCR as new documents: the classifier's training corpus. Refused
    files go to raw.quarantine. Readings are cached by content hash, so a rebuild reads nothing
    twice."""
    accepted, refused = [], []
    for location, label in labelled_files(landing_zone.path):
        path = local_path(location, landing_zone.path)
        intake = validate_document(path)
        if intake.accepted:
            accepted.append((location, label, intake.content_sha256, path))
        else:
            refused.append((location, intake, content_sha256(path)))
    if refused:
        with duckdb.get_connection() as con:
            for location, intake, sha in refused:
                quarantine_document(
                    con, intake, source=LABELLED_SOURCE, location=location, file_hash=sha
                )
                context.log.warning("quarantined %s: %s", location, quarantine_reason(intake))
    start = time.perf_counter()
    readings = read_documents(
        [(path, sha) for _, _, sha, path in accepted],
        reading_cache(),
        dpi=config.render_dpi,
        workers=config.workers,
    )
    corpus = corpus_frame([(loc, label, sha) for loc, label, sha, _ in accepted], readings)
    types = Counter(corpus["doc_type"].to_list())
    engines = Counter(corpus["ocr_engine"].to_list())
    context.add_output_metadata(
        {
            "dagster/row_count": corpus.height,
            "refused_files": len(refused),
            "reading_seconds": round(time.perf_counter() - start, 1),
            "ocr_seconds_when_read": round(sum(r.ocr.seconds for r in readings), 1),
            "documents_per_type": dg.MetadataValue.json(dict(sorted(types.items()))),
            "ocr_engines": dg.MetadataValue.json(dict(engines)),
            "needs_review": int(corpus["needs_review"].sum()),
        }
    )
    return corpus


class DocumentClassifierConfig(dg.Config):
    """The specification's booster (200 trees) and the page CNN's training; tests shrink both."""

    n_estimators: int = 200
    cnn_epochs: int = 20
    cnn_min_steps: int = 120
    cnn_folds: int = 3


def _classifier_config(config: DocumentClassifierConfig) -> ClassifierConfig:
    return ClassifierConfig(
        n_estimators=config.n_estimators,
        cnn_folds=config.cnn_folds,
        cnn=CnnConfig(epochs=config.cnn_epochs, min_steps=config.cnn_min_steps),
        seed=SPLIT_SEED,
    )


@dg.asset(
    group_name="documents",
    kinds={"lightgbm", "torch", "mlflow"},
    ins={"corpus": dg.AssetIn(key=labelled_documents.key)},
    required_resource_keys={"mlflow"},
    output_required=False,
)
def document_classifier(
    context: dg.AssetExecutionContext, config: DocumentClassifierConfig, corpus: pl.DataFrame
) -> Iterator[dg.MaterializeResult | dg.AssetObservation]:
    """TF-IDF on the OCR text and a small CNN on the first page's thumbnail, both fed to
    LightGBM, trained on the labelled archive less its held-out documents; logged to MLflow and
    registered as a new `candidate` version of roi-document-classifier.

    Not retrained while the candidate was trained on the same documents, configuration and code
    (`training_fingerprint`): the asset is then observed, not materialised, and its evaluation
    and promotion are skipped in the same run."""
    training, held_out = held_out_split(corpus, HELD_OUT_FRACTION, SPLIT_SEED)
    texts, thumbnails, labels = classifier_inputs(training)
    classifier_config = _classifier_config(config)
    fingerprint = training_fingerprint(texts, thumbnails, labels, classifier_config)
    unchanged = candidate_trained_on(MlflowClient(), MODEL_NAME, fingerprint)
    if unchanged is not None:
        context.log.info(
            "%s: candidate v%s has this fingerprint; not retrained", MODEL_NAME, unchanged
        )
        yield dg.AssetObservation(
            asset_key=context.asset_key,
            metadata={"unchanged_candidate": unchanged, "training_fingerprint": fingerprint},
        )
        return
    start = time.perf_counter()
    with torch_threads(1):
        classifier = DocumentClassifier(classifier_config).fit(texts, thumbnails, labels)
    seconds = time.perf_counter() - start
    documents = {"training_documents": training.height, "held_out_documents": held_out.height}
    with mlflow.start_run(run_name=MODEL_NAME, nested=True):
        mlflow.log_params({**_logged_params(classifier_config), **documents})
        mlflow.log_metrics({"training_seconds": seconds})
        version = _register(classifier, pyfunc_input(texts[:2], thumbnails[:2]))
    MlflowClient().set_model_version_tag(MODEL_NAME, version, FINGERPRINT_TAG, fingerprint)
    set_alias(MODEL_NAME, CANDIDATE, version)
    context.log.info("%s: registered version %s", MODEL_NAME, version)
    yield dg.MaterializeResult(
        metadata={
            "version": version,
            **documents,
            "training_seconds": round(seconds, 1),
            "training_fingerprint": fingerprint,
        }
    )


def _logged_params(config: ClassifierConfig) -> dict[str, object]:
    return {
        "max_features": config.max_features,
        "ngram_range": str(config.ngram_range),
        "num_leaves": config.num_leaves,
        "learning_rate": config.learning_rate,
        "n_estimators": config.n_estimators,
        "min_child_samples": config.min_child_samples,
        "colsample_bytree": config.colsample_bytree,
        "cnn_folds": config.cnn_folds,
        "cnn_epochs": config.cnn.epochs,
    }


def _register(classifier: DocumentClassifier, input_example: pd.DataFrame) -> str:
    """Log the fitted classifier to the active MLflow run as a pyfunc model (its saved file as
    the artifact) and register it: the new version of roi-document-classifier."""
    serving = DocumentClassifierModel()
    serving.classifier = classifier
    with tempfile.TemporaryDirectory() as folder:
        artifact = Path(folder) / "document_classifier.pkl"
        classifier.save(artifact)
        info = log_flavour_model(
            mlflow.pyfunc.log_model,
            name="model",
            input_example=input_example,
            predict=lambda frame: serving.predict(None, frame),
            registered_model_name=MODEL_NAME,
            python_model=DocumentClassifierModel(),
            artifacts={ARTIFACT_KEY: str(artifact)},
            pip_requirements=list(PIP_REQUIREMENTS),
        )
    return registered_version(info)


@dg.asset(
    group_name="documents",
    kinds={"python", "duckdb"},
    deps=[document_classifier],
    ins={"corpus": dg.AssetIn(key=labelled_documents.key)},
    pool=WAREHOUSE_POOL,
)
def document_classifier_evaluation(
    context: dg.AssetExecutionContext,
    corpus: pl.DataFrame,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> dg.MaterializeResult:
    """The candidate on the held-out labelled documents it never saw: accuracy, per-class F1 and
    confusion matrix next to the oracle (types are exact: 1.0), the candidate on the documents'
    true text, and the majority class, TF-IDF alone and the page CNN alone as baselines; written
    to monitoring.model_evaluations and to the version's MLflow run."""
    training, held_out = held_out_split(corpus, HELD_OUT_FRACTION, SPLIT_SEED)
    version = registry.version(MODEL_NAME, CANDIDATE)
    classifier = registry.load(MODEL_NAME, CANDIDATE).unwrap_python_model().classifier
    hashes = held_out["content_sha256"].to_list()
    with duckdb.get_connection() as con:
        true_texts = document_clean_texts(con, hashes)
    evaluation = evaluate_on_held_out(classifier, training, held_out, true_texts)
    rows = evaluation.rows(
        model_name=MODEL_NAME,
        model_version=str(version),
        evaluation_window=evaluation_window(hashes),
        evaluated_at=_now(),
    )
    with duckdb.get_connection() as con:
        written = write_model_evaluations(con, rows)
    client = registry.client()
    run_id = client.get_model_version(MODEL_NAME, str(version)).run_id
    for metric, value in evaluation.metrics().items():
        if not np.isnan(value):
            client.log_metric(run_id, f"held_out_{metric}", value)
    context.log.info("wrote %d evaluation rows for %s v%s", written, MODEL_NAME, version)
    metadata: dict[str, Any] = {
        "version": str(version),
        "held_out_documents": held_out.height,
        "accuracy": evaluation.model.accuracy,
        "macro_f1": evaluation.model.macro_f1,
        "evaluation": dg.MetadataValue.md(evaluation.markdown(MODEL_NAME, str(version))),
    }
    if evaluation.clean_text is not None:
        metadata[f"accuracy_on_{CLEAN_TEXT}"] = evaluation.clean_text.accuracy
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    group_name="documents",
    kinds={"python", "duckdb"},
    ins={"corpus": dg.AssetIn(key=labelled_documents.key)},
    pool=WAREHOUSE_POOL,
)
def document_entity_evaluation(
    context: dg.AssetExecutionContext, corpus: pl.DataFrame, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """The entity extractor (after text cleaning) judged on the labelled archive against the
    simulator's true entities: precision and recall per entity type on the OCR text, next to the
    same rules on the documents' true text; written to monitoring.model_evaluations as
    roi-document-entities. Documents without truth (a real archive) are skipped."""
    hashes = corpus["content_sha256"].to_list()
    with duckdb.get_connection() as con:
        truth = document_true_entities(con, hashes)
        true_texts = document_clean_texts(con, hashes)
    judged = corpus.filter(
        pl.col("content_sha256").is_in(
            [sha for sha in hashes if sha in truth and sha in true_texts]
        )
    )
    if judged.is_empty():
        context.log.warning("no labelled document has true entities: nothing to evaluate")
        return dg.MaterializeResult(metadata={"documents": 0})
    judged_hashes = judged["content_sha256"].to_list()
    evaluation = evaluate_entities(
        judged["text"].to_list(),
        [true_texts[sha] for sha in judged_hashes],
        [truth[sha] for sha in judged_hashes],
    )
    rows = evaluation.rows(evaluated_at=_now(), evaluation_window=evaluation_window(judged_hashes))
    with duckdb.get_connection() as con:
        written = write_model_evaluations(con, rows)
    context.log.info("wrote %d evaluation rows for %s", written, ENTITY_MODEL_NAME)
    metrics = {metric: value for metric, value, _, _ in evaluation.metrics()}
    return dg.MaterializeResult(
        metadata={
            "documents": judged.height,
            "extractor_version": EXTRACTOR_VERSION,
            "precision_all": metrics["precision_all"],
            "recall_all": metrics["recall_all"],
            "evaluation": dg.MetadataValue.md(evaluation.markdown()),
        }
    )


@dg.asset(
    group_name="documents",
    kinds={"mlflow"},
    deps=[document_classifier_evaluation],
    pool=WAREHOUSE_POOL,
)
def document_classifier_promotion(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, registry: ModelRegistry
) -> dg.MaterializeResult:
    """Runs after the validation gate passed: the candidate becomes `challenger`, and `champion`
    when the model has none (`deployment.lifecycle`), when its recorded evaluation passes the
    gate's rule, so a version no gate judged is never admitted. A challenger is then judged in
    shadow against the champion before it classifies new documents."""
    candidate = registry.version(MODEL_NAME, CANDIDATE)
    with duckdb.get_connection() as con:
        verdict = recorded_verdict(con, MODEL_NAME, candidate)
    passed = verdict is not None and verdict.passed
    aliases = admit_candidate(registry.client(), MODEL_NAME, str(candidate), passed)
    context.log.info("%s v%s: %s", MODEL_NAME, candidate, ", ".join(aliases) or "not admitted")
    return dg.MaterializeResult(
        metadata={
            "version": str(candidate),
            "aliases": ", ".join(aliases),
            "champion": str(registry.version(MODEL_NAME, CHAMPION)),
        }
    )


class LandedDocumentConfig(dg.Config):
    """Where the document landed (relative to the landing zone, or an s3:// URI), as the arrival
    sensor passes it on; left empty, the local landing folder is searched for the partition's
    key. `render_dpi` is the resolution PDF pages are rendered at for OCR."""

    location: str = ""
    render_dpi: int = DEFAULT_DPI


def _ocr_row(key: str, sha: str, location: str, ocr: OcrResult, render_dpi: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "document_id": [key],
            "content_sha256": [sha],
            "source_file": [location],
            "text": [ocr.text],
            "ocr_engine": [str(ocr.engine)],
            "ocr_confidence": [ocr.confidence],
            "quality_score": [ocr.quality],
            "page_count": [ocr.page_count],
            "ocr_seconds": [ocr.seconds],
            "needs_review": [ocr.needs_review],
            "render_dpi": [render_dpi],
            "processed_at": [_now()],
        },
        schema_overrides={
            "quality_score": pl.Float64,
            "page_count": pl.Int32,
            "render_dpi": pl.Int32,
            "processed_at": pl.Datetime("us"),
        },
    )


@dg.asset(
    key=["raw", "document_ocr"],
    partitions_def=documents_partitions,
    group_name="documents",
    kinds={"tesseract", "duckdb"},
    metadata={"partition_expr": "document_id"},
    pool=WAREHOUSE_POOL,
    output_required=False,
)
def document_ocr(
    context: dg.AssetExecutionContext,
    config: LandedDocumentConfig,
    landing_zone: LandingZoneResource,
    duckdb: DuckDBResource,
) -> Iterator[dg.Output[pl.DataFrame]]:
    """One landed document checked at intake and read: its text, the engine that read it
    (text layer, Tesseract or Textract), the engine's confidence, the scan's quality score, page
    count, seconds and whether a person should check it. A refused file (corrupt, empty,
    encrypted, oversized, badly named, ...) goes to raw.quarantine with its reason and is not
    materialised; the landed file is only ever read."""
    key = context.partition_key
    location = config.location or find_landed(key, landing_zone.path, INCOMING_FOLDER)
    if location is None:
        raise dg.Failure(
            f"no file in landing/{INCOMING_FOLDER} has the key {key}; pass its location in the "
            "run config (S3 documents always need it)"
        )
    s3 = landing_zone.s3_client() if location.startswith("s3://") else None
    with local_copy(location, landing_zone.path, s3) as path:
        sha = content_sha256(path)
        if document_key(sha) != key:
            raise dg.Failure(f"{location} no longer holds document {key} (its content changed)")
        intake = validate_document(path, name=landed_name(location))
        if not intake.accepted:
            _quarantine(context, duckdb, intake, location, sha)
            return
        reading = reading_cache().read(path, sha, config.render_dpi)
    ocr = reading.ocr
    yield dg.Output(
        _ocr_row(key, sha, location, ocr, config.render_dpi),
        metadata={
            "location": location,
            "ocr_engine": str(ocr.engine),
            "ocr_confidence": ocr.confidence,
            "quality_score": ocr.quality if ocr.quality is not None else float("nan"),
            "pages": ocr.page_count,
            "ocr_seconds": round(ocr.seconds, 2),
            "needs_review": ocr.needs_review,
        },
    )


def _quarantine(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    intake: IntakeResult,
    location: str,
    sha: str,
) -> None:
    """A refused document goes to raw.quarantine with its reason, observed on its partition."""
    with duckdb.get_connection() as con:
        quarantine_document(con, intake, source=INCOMING_SOURCE, location=location, file_hash=sha)
    reason = quarantine_reason(intake)
    context.log.warning("quarantined %s: %s", location, reason)
    context.log_event(
        dg.AssetObservation(
            asset_key=context.asset_key,
            partition=context.partition_key,
            metadata={"quarantined": reason, "location": location},
        )
    )


@lru_cache(maxsize=2)
def _classifier_version(tracking_uri: str, version: str) -> mlflow.pyfunc.PyFuncModel:
    # One load per store, version and process: `make run` classifies every document in one.
    return mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{version}")


def _serving_classifier(
    registry: ModelRegistry, duckdb: DuckDBResource, document_id: str
) -> tuple[str, mlflow.pyfunc.PyFuncModel] | None:
    """The version classifying this document (the champion, or the challenger for the documents
    its rollout reaches) and its model; None while no candidate has passed the gate."""
    with duckdb.get_connection() as con:
        plan = serving_plan(con, registry.client(), MODEL_NAME)
    version = plan.version_for(document_id)
    if version is None:
        return None
    registry.activate()
    return version, _classifier_version(registry.resolved_uri(), version)


def _thumbnail(row: dict, landing_zone: LandingZoneResource) -> np.ndarray:
    """The first page's thumbnail, from the reading cache or, when evicted, from the file."""
    cached = reading_cache().get(row["content_sha256"], row["render_dpi"])
    if cached is not None:
        return cached.thumbnail
    location = row["source_file"]
    s3 = landing_zone.s3_client() if location.startswith("s3://") else None
    with local_copy(location, landing_zone.path, s3) as path:
        return first_page_thumbnail(path, row["render_dpi"])


@dg.asset(
    key=DOCUMENT_CLASSIFICATIONS,
    partitions_def=documents_partitions,
    group_name="documents",
    kinds={"lightgbm", "duckdb"},
    ins={"ocr": dg.AssetIn(key=document_ocr.key)},
    metadata={"partition_expr": "document_id"},
    pool=WAREHOUSE_POOL,
)
def document_classifications(
    context: dg.AssetExecutionContext,
    ocr: pl.DataFrame,
    landing_zone: LandingZoneResource,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> pl.DataFrame:
    """The champion classifier's type for one document with its confidence, the entities found
    in its text (parties, address, parcel, amounts, rate, dates, each with a confidence) as JSON,
    and `needs_review` when the OCR or the classification is unsure. While no classifier has
    passed the validation gate, the type is left empty and the document flagged for review."""
    row = ocr.row(0, named=True)
    champion = _serving_classifier(registry, duckdb, row["document_id"])
    predicted_type, confidence, version = None, None, None
    if champion is None:
        context.log.warning(
            "%s has no champion yet: document %s is left for a person",
            MODEL_NAME,
            row["document_id"],
        )
    else:
        version, model = champion
        frame = pyfunc_input([row["text"]], _thumbnail(row, landing_zone)[np.newaxis])
        with torch_threads(1):
            prediction = model.predict(frame).iloc[0]
        predicted_type = str(prediction["predicted_type"])
        confidence = float(prediction["confidence"])
    entities = extract_entities(row["text"])
    classified = _classification_row(row, predicted_type, confidence, version, entities)
    context.add_output_metadata(
        {
            "predicted_type": predicted_type or "unclassified (no champion yet)",
            "confidence": confidence if confidence is not None else float("nan"),
            "entities_found": len(entities),
            "model_version": str(version),
        }
    )
    return classified


def _classification_row(
    ocr_row: dict[str, Any],
    predicted_type: str | None,
    confidence: float | None,
    version: str | None,
    entities: list[Entity],
) -> pl.DataFrame:
    """The mart's row for one document: flagged for review when the OCR was unsure, when no
    classifier decided, or when its confidence is below `REVIEW_BELOW_CONFIDENCE`."""
    unsure = confidence is None or confidence < REVIEW_BELOW_CONFIDENCE
    return pl.DataFrame(
        {
            "document_id": [ocr_row["document_id"]],
            "source_file": [ocr_row["source_file"]],
            "predicted_type": [predicted_type],
            "confidence": [confidence],
            "ocr_engine": [ocr_row["ocr_engine"]],
            "ocr_confidence": [ocr_row["ocr_confidence"]],
            "quality_score": [ocr_row["quality_score"]],
            "entities": [entities_json(entities)],
            "needs_review": [bool(ocr_row["needs_review"]) or unsure],
            "model_version": [version],
            "processed_at": [_now()],
        },
        schema_overrides={
            "predicted_type": pl.String,
            "confidence": pl.Float64,
            "quality_score": pl.Float64,
            "model_version": pl.String,
            "processed_at": pl.Datetime("us"),
        },
    )
