"""Drift of the document stream the classifier sees, against the archive it learnt from.

The classifier trains on the labelled archive (raw.labelled_documents), read by the same intake
and OCR as new documents, so the archive is the reference and the documents the champion
classified lately (marts.document_classifications, page counts from raw.document_ocr) are the
current window. Compared with the shared machinery of `drift` (normed Wasserstein):

- inputs: the scan's quality score, the OCR engine's confidence and the page count;
- `prediction:confidence`: the champion's confidence against its confidence on the archive's
  held-out documents, which it never trained on (on its training rows it is overconfident, and
  every window would look like drift).

Left out: the predicted type against the archive's labels. The archive is filed balanced over the
nine types while documents arrive in the platform's usual shares, so the two differ by
construction and the comparison would alarm every day (and the drift sensor would retrain in a
loop) without telling anything.

Document windows are small (tens of documents, not thousands of sends), and at the shared
threshold of 0.1 sampling noise alone exceeds it: two samples of 50 from one distribution give a
normed Wasserstein distance of about 0.2 on average. Hence `MIN_DOCUMENTS` per window and a
threshold of 0.5 (half a reference standard deviation): by simulation (normal, beta and discrete
page-count shapes, 1,000 draws of 50 against 50) a feature passes it by chance in about 2 % of
windows and never reaches the critical level (twice the threshold), while a shift of 0.75 standard
deviations is caught in about 9 windows of 10 and one of a whole deviation always. A window with
fewer documents, or a model without champion, records nothing.

Only documents the current champion classified count: another version's confidences describe
another model. The archive has no time axis, so its window is named by the table and its size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from roi_assets.monitoring.drift.feature_drift import (
    CURRENT_DAYS,
    PREDICTION_PREFIX,
    DriftReport,
    compare_distributions,
    drift_rows,
)

MODEL_NAME = "roi-document-classifier"
ARCHIVE_TABLE = "raw.labelled_documents"
CLASSIFICATIONS_TABLE = "marts.document_classifications"
OCR_TABLE = "raw.document_ocr"
NUMERICAL: tuple[str, ...] = ("quality_score", "ocr_confidence", "page_count")
CONFIDENCE = f"{PREDICTION_PREFIX}confidence"
MIN_DOCUMENTS = 50
DOCUMENT_DRIFT_THRESHOLD = 0.5
CLASSIFIED_SCHEMA: dict[str, pl.DataType] = {
    "document_id": pl.String(),
    "predicted_type": pl.String(),
    "confidence": pl.Float64(),
    "ocr_confidence": pl.Float64(),
    "quality_score": pl.Float64(),
    "page_count": pl.Int32(),
    "model_version": pl.String(),
    "processed_at": pl.Datetime("us"),
}


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def read_classified(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every classified document with its page count; an empty frame (same columns) while no
    document has been classified yet."""
    if not _table_exists(con, CLASSIFICATIONS_TABLE):
        return pl.DataFrame(schema=CLASSIFIED_SCHEMA)
    pages = "o.page_count" if _table_exists(con, OCR_TABLE) else "null"
    join = f"left join {OCR_TABLE} o using (document_id)" if pages != "null" else ""
    frame = con.execute(
        f"select c.document_id, c.predicted_type, c.confidence, c.ocr_confidence, "
        f"c.quality_score, {pages} as page_count, c.model_version, c.processed_at "
        f"from {CLASSIFICATIONS_TABLE} c {join} where c.predicted_type is not null"
    ).pl()
    return frame.select([pl.col(name).cast(dtype) for name, dtype in CLASSIFIED_SCHEMA.items()])


def current_documents(
    classified: pl.DataFrame, champion_version: str, current_days: int = CURRENT_DAYS
) -> pl.DataFrame:
    """The champion's classifications of the last `current_days` days before its latest one."""
    mine = classified.filter(pl.col("model_version") == str(champion_version))
    if mine.height == 0:
        return mine
    last = mine["processed_at"].max()
    return mine.filter(pl.col("processed_at") > last - dt.timedelta(days=current_days))


@dataclass(frozen=True)
class DocumentDrift:
    """The inputs report (archive against current) and, when the held-out archive is large
    enough, the confidence report, with the windows that name them."""

    inputs: DriftReport
    confidence: DriftReport | None
    reference_window: str
    current_window: str
    current_documents: int

    @property
    def verdicts(self) -> pl.DataFrame:
        reports = [self.inputs, *([self.confidence] if self.confidence else [])]
        return pl.concat([report.verdicts for report in reports])

    @property
    def drifted_features(self) -> list[str]:
        return self.verdicts.filter(pl.col("drifted"))["feature"].to_list()

    def rows(self, model_version: str, computed_at: dt.datetime) -> pl.DataFrame:
        """Rows of monitoring.feature_drift for the classifier's champion."""
        reports = [self.inputs, *([self.confidence] if self.confidence else [])]
        return pl.concat(
            [
                drift_rows(
                    report,
                    model_name=MODEL_NAME,
                    model_version=model_version,
                    reference_window=self.reference_window,
                    current_window=self.current_window,
                    computed_at=computed_at,
                )
                for report in reports
            ]
        )


def too_few_documents(archive: int, current: int) -> str | None:
    """Why the windows cannot be compared, or None when both hold enough documents."""
    if archive < MIN_DOCUMENTS or current < MIN_DOCUMENTS:
        return (
            f"too few documents to tell drift from sampling noise: {archive} in the archive, "
            f"{current} classified by the champion lately ({MIN_DOCUMENTS} needed in each)"
        )
    return None


def document_drift(
    archive: pl.DataFrame,
    current: pl.DataFrame,
    held_out_confidence: list[float] | None = None,
) -> DocumentDrift | None:
    """Drift of the current documents' inputs against the archive, and of the champion's
    confidence against its confidence on held-out archive documents when there are
    `MIN_DOCUMENTS` of them; None when either window is too small (`too_few_documents`)."""
    if too_few_documents(archive.height, current.height) is not None:
        return None
    columns = [pl.col(name).cast(pl.Float64) for name in NUMERICAL]
    inputs = compare_distributions(
        archive.select(columns),
        current.select(columns),
        NUMERICAL,
        threshold=DOCUMENT_DRIFT_THRESHOLD,
    )
    confidence = None
    if held_out_confidence is not None and len(held_out_confidence) >= MIN_DOCUMENTS:
        confidence = compare_distributions(
            pl.DataFrame({CONFIDENCE: held_out_confidence}, schema={CONFIDENCE: pl.Float64}),
            current.select(pl.col("confidence").cast(pl.Float64).alias(CONFIDENCE)),
            [CONFIDENCE],
            threshold=DOCUMENT_DRIFT_THRESHOLD,
        )
    times = current["processed_at"]
    return DocumentDrift(
        inputs=inputs,
        confidence=confidence,
        reference_window=f"{ARCHIVE_TABLE}:{archive.height}",
        current_window=f"{times.min().isoformat()}/{times.max().isoformat()}",
        current_documents=current.height,
    )
