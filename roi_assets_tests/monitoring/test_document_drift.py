import datetime as dt

import duckdb
import numpy as np
import polars as pl

from roi_assets.documents.classifier import DOCUMENT_TYPES
from roi_assets.monitoring.drift.document_drift import (
    CONFIDENCE,
    MIN_DOCUMENTS,
    MODEL_NAME,
    NUMERICAL,
    current_documents,
    document_drift,
    read_classified,
    too_few_documents,
)
from roi_assets.monitoring.drift.feature_drift import write_feature_drift

START = dt.datetime(2025, 3, 1)


def _archive(n: int = 300, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "doc_type": [DOCUMENT_TYPES[i % len(DOCUMENT_TYPES)] for i in range(n)],
            "quality_score": rng.normal(0.8, 0.05, n).clip(0, 1),
            "ocr_confidence": rng.normal(90.0, 3.0, n),
            "page_count": rng.integers(1, 6, n).astype(np.int32),
        }
    )


def _classified(
    n: int = 200, seed: int = 1, quality_shift: float = 0.0, version: str = "4"
) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "document_id": [f"doc-{i}" for i in range(n)],
            "predicted_type": [DOCUMENT_TYPES[i % len(DOCUMENT_TYPES)] for i in range(n)],
            "confidence": rng.uniform(0.6, 1.0, n),
            "ocr_confidence": rng.normal(90.0, 3.0, n),
            "quality_score": (rng.normal(0.8, 0.05, n) - quality_shift).clip(0, 1),
            "page_count": rng.integers(1, 6, n).astype(np.int32),
            "model_version": [version] * n,
            "processed_at": [START + dt.timedelta(hours=i) for i in range(n)],
        }
    )


HELD_OUT_CONFIDENCE = list(np.random.default_rng(2).uniform(0.6, 1.0, 80))


def test_documents_like_the_archive_raise_no_drift():
    drift = document_drift(_archive(), _classified(), HELD_OUT_CONFIDENCE)
    assert drift is not None
    assert set(drift.verdicts["feature"]) == {*NUMERICAL, CONFIDENCE}
    assert drift.drifted_features == []


def test_scans_of_worse_quality_than_the_archive_flag_the_quality_score_alone():
    drift = document_drift(_archive(), _classified(quality_shift=0.15), HELD_OUT_CONFIDENCE)
    assert drift.drifted_features == ["quality_score"]


def test_a_less_sure_champion_is_prediction_drift():
    current = _classified().with_columns(confidence=pl.col("confidence") - 0.3)
    assert document_drift(_archive(), current, HELD_OUT_CONFIDENCE).drifted_features == [CONFIDENCE]


def test_too_few_held_out_documents_leave_the_confidence_out():
    drift = document_drift(_archive(), _classified(), HELD_OUT_CONFIDENCE[: MIN_DOCUMENTS - 1])
    assert set(drift.verdicts["feature"]) == set(NUMERICAL)


def test_rows_carry_the_classifier_and_the_champion_version_and_upsert():
    drift = document_drift(_archive(), _classified(quality_shift=0.15), HELD_OUT_CONFIDENCE)
    rows = drift.rows("4", START)
    assert set(rows["model_name"]) == {MODEL_NAME} and set(rows["model_version"]) == {"4"}
    assert rows["reference_window"][0] == "raw.labelled_documents:300"
    with duckdb.connect() as con:
        write_feature_drift(con, rows)
        write_feature_drift(con, rows)  # a re-run over the same windows replaces its rows
        stored = con.execute("select count(*) from monitoring.feature_drift").fetchone()[0]
    assert stored == rows.height == len(NUMERICAL) + 1


def test_an_empty_or_small_window_records_nothing_and_says_why():
    assert document_drift(_archive(), _classified(n=0)) is None
    assert document_drift(_archive(), _classified(n=MIN_DOCUMENTS - 1)) is None
    assert document_drift(_archive(n=MIN_DOCUMENTS - 1), _classified()) is None
    assert "0 classified" in too_few_documents(300, 0)
    assert too_few_documents(MIN_DOCUMENTS, MIN_DOCUMENTS) is None


def test_no_classification_table_yet_reads_as_an_empty_window():
    with duckdb.connect() as con:
        classified = read_classified(con)
    assert classified.height == 0
    assert current_documents(classified, "1").height == 0


def test_the_current_window_holds_only_the_champions_latest_28_days():
    # a previous champion's documents, classified on the last day
    old = _classified(n=50, version="3").with_columns(
        processed_at=pl.col("processed_at") + dt.timedelta(days=39)
    )
    recent = _classified(n=24 * 40, version="4")  # 40 days of hourly documents
    current = current_documents(pl.concat([old, recent]), "4")
    assert set(current["model_version"]) == {"4"}
    span = current["processed_at"].max() - current["processed_at"].min()
    assert span < dt.timedelta(days=28) and current.height == 28 * 24


def test_classifications_are_read_with_their_page_counts_and_unclassified_ones_left_out():
    frame = _classified(n=12)
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("create schema raw")
        mart = frame.drop("page_count").with_columns(
            predicted_type=pl.when(pl.col("document_id") == "doc-0")
            .then(None)
            .otherwise(pl.col("predicted_type"))
        )
        con.register("mart", mart.to_arrow())
        con.execute("create table marts.document_classifications as select * from mart")
        ocr = frame.select("document_id", "page_count")
        con.register("ocr", ocr.to_arrow())
        con.execute("create table raw.document_ocr as select * from ocr")
        classified = read_classified(con)
    assert classified.height == 11 and "doc-0" not in classified["document_id"].to_list()
    assert classified.sort("document_id")["page_count"].to_list() == (
        frame.filter(pl.col("document_id") != "doc-0").sort("document_id")["page_count"].to_list()
    )
