"""Drift assets: each model's input features and the documents the classifier reads, against
what the models learnt from."""

from typing import Any

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from roi_assets.catalog import (
    CHURN_FEATURES,
    DOCUMENT_CLASSIFICATIONS,
    DOCUMENT_CLASSIFIER_MODEL,
    DOCUMENT_HELD_OUT_FRACTION,
    DOCUMENT_SPLIT_SEED,
    EMAIL_FEATURES,
    LABELLED_DOCUMENTS,
)
from roi_assets.documents.image_features import torch_threads
from roi_assets.documents.labelled_corpus import classifier_inputs, held_out_split
from roi_assets.evaluation.reliability import png_markdown
from roi_assets.monitoring.drift.document_drift import (
    MIN_DOCUMENTS,
    current_documents,
    document_drift,
    read_classified,
    too_few_documents,
)
from roi_assets.monitoring.drift.feature_drift import (
    CHURN_INPUTS,
    EMAIL_INPUTS,
    MODEL_INPUTS,
    drift_rows,
    feature_drift,
    markdown_table,
    write_feature_drift,
)
from roi_assets.monitoring.drift.held_out_confidence import (
    input_digests,
    store_confidences,
    stored_confidences,
)
from roi_assets.monitoring.drift.plots import drift_scores_png
from roi_assets.monitoring.reports import GROUP, SAFE_RETRY, report_path, utc_now
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.tracking import CHAMPION
from roi_assets.resources.warehouse import WAREHOUSE_POOL


@dg.asset(
    key=["monitoring", "feature_drift"],
    group_name=GROUP,
    kinds={"evidently", "duckdb"},
    ins={"email": dg.AssetIn(key=EMAIL_FEATURES), "churn": dg.AssetIn(key=CHURN_FEATURES)},
    pool=WAREHOUSE_POOL,
    retry_policy=SAFE_RETRY,
)
def feature_drift_report(
    context: dg.AssetExecutionContext,
    email: pl.DataFrame,
    churn: pl.DataFrame,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> dg.MaterializeResult:
    """Evidently drift of each model's stationary input features, training window against the
    latest 28 days (normed Wasserstein for numbers, Jensen-Shannon for categories, threshold 0.1):
    one row per model and feature in monitoring.feature_drift, and an HTML report per table."""
    computed_at = utc_now()
    metadata: dict[str, Any] = {}
    frames = []
    for frame, inputs in ((email, EMAIL_INPUTS), (churn, CHURN_INPUTS)):
        report, windows = feature_drift(frame, inputs)
        name = inputs.table.split(".")[-1]
        path = report.save_html(report_path(f"feature_drift_{name}"))
        for model_name, model_inputs in MODEL_INPUTS.items():
            if model_inputs is inputs:
                frames.append(
                    drift_rows(
                        report,
                        model_name=model_name,
                        model_version=registry.version(model_name, CHAMPION),
                        reference_window=windows.reference_window,
                        current_window=windows.current_window,
                        computed_at=computed_at,
                    )
                )
        metadata[f"{name}_report"] = dg.MetadataValue.path(str(path))
        metadata[f"{name}_drift"] = dg.MetadataValue.md(
            f"reference {windows.reference_window} ({windows.reference.height} rows), current "
            f"{windows.current_window} ({windows.current.height} rows)\n\n"
            + markdown_table(report.verdicts)
        )
        metadata[f"{name}_drifted_features"] = len(report.drifted_features)
    with duckdb.get_connection() as con:
        written = sum(write_feature_drift(con, rows) for rows in frames)
    metadata["dagster/row_count"] = written
    metadata["drift_per_feature"] = dg.MetadataValue.md(
        png_markdown(drift_scores_png(pl.concat(frames)), "drift per feature")
    )
    return dg.MaterializeResult(metadata=metadata)


def _held_out_confidence(
    corpus: pl.DataFrame, version: str, registry: ModelRegistry, duckdb: DuckDBResource
) -> list[float] | None:
    """The champion version's confidence on the archive's held-out documents: kept from an
    earlier day (`held_out_confidence`), or scored now and kept; None when they are too few to
    compare (the classifier is then not even loaded)."""
    _, held_out = held_out_split(corpus, DOCUMENT_HELD_OUT_FRACTION, DOCUMENT_SPLIT_SEED)
    if held_out.height < MIN_DOCUMENTS:
        return None
    digests = input_digests(held_out)
    with duckdb.get_connection() as con:
        stored = stored_confidences(con, DOCUMENT_CLASSIFIER_MODEL, version, digests)
    if stored is not None:
        return stored
    model = registry.load_version(DOCUMENT_CLASSIFIER_MODEL, version)
    texts, thumbnails, _ = classifier_inputs(held_out)
    with torch_threads(1):
        _, confidence = model.unwrap_python_model().classifier.predict(texts, thumbnails)
    with duckdb.get_connection() as con:
        store_confidences(con, DOCUMENT_CLASSIFIER_MODEL, version, digests, confidence)
    return confidence.tolist()


@dg.asset(
    key=["monitoring", "document_drift"],
    group_name=GROUP,
    kinds={"evidently", "duckdb"},
    ins={"corpus": dg.AssetIn(key=LABELLED_DOCUMENTS)},
    deps=[DOCUMENT_CLASSIFICATIONS],
    pool=WAREHOUSE_POOL,
    retry_policy=SAFE_RETRY,
)
def document_drift_report(
    context: dg.AssetExecutionContext,
    corpus: pl.DataFrame,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> dg.MaterializeResult:
    """Drift of the documents the classifier's champion read lately (quality score, OCR
    confidence, page count, and its own confidence) against the labelled archive it learnt from,
    in monitoring.feature_drift. Documents are classified by per-document runs, so on a first
    refresh there may be none yet: then, as without champion, nothing is written."""
    version = registry.version(DOCUMENT_CLASSIFIER_MODEL, CHAMPION)
    if version is None:
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": 0,
                "skipped": f"{DOCUMENT_CLASSIFIER_MODEL} has no champion",
            }
        )
    with duckdb.get_connection() as con:
        current = current_documents(read_classified(con), version)
    reason = too_few_documents(corpus.height, current.height)
    if reason is not None:
        return dg.MaterializeResult(metadata={"dagster/row_count": 0, "skipped": reason})
    held_out_confidence = _held_out_confidence(corpus, version, registry, duckdb)
    drift = document_drift(corpus, current, held_out_confidence)
    path = drift.inputs.save_html(report_path("document_drift"))
    rows = drift.rows(version, utc_now())
    with duckdb.get_connection() as con:
        written = write_feature_drift(con, rows)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": written,
            "champion_version": version,
            "report": dg.MetadataValue.path(str(path)),
            "drift": dg.MetadataValue.md(
                f"reference {drift.reference_window}, current {drift.current_window} "
                f"({drift.current_documents} documents)\n\n" + markdown_table(drift.verdicts)
            ),
            "confidence": "compared"
            if drift.confidence
            else f"not compared: fewer than {MIN_DOCUMENTS} held-out archive documents",
            "drifted_features": len(drift.drifted_features),
        }
    )
