"""The classifier's training corpus: the archive of documents filed by type, read like arrivals.

The archive lies in the landing zone as `labelled_documents/<type>/<file>`; the folder is the
label, as the records team filed it. Every file goes through the same intake checks and the same
OCR as a new document, so the classifier learns from text as the pipeline reads it, damage and
all. The held-out split is a pure function of the documents' content hashes and labels, so
training and evaluation agree on it without storing it, and a re-run holds out the same files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.model_selection import train_test_split

from roi_assets.documents.classifier import DOCUMENT_TYPES
from roi_assets.documents.document_reading import DocumentReading
from roi_assets.documents.image_features import THUMBNAIL_SIZE

LABELLED_FOLDER = "labelled_documents"
CORPUS_SCHEMA: dict[str, pl.DataType] = {
    "content_sha256": pl.String(),
    "landing_path": pl.String(),
    "doc_type": pl.String(),
    "text": pl.String(),
    "ocr_engine": pl.String(),
    "ocr_confidence": pl.Float64(),
    "quality_score": pl.Float64(),
    "page_count": pl.Int32(),
    "needs_review": pl.Boolean(),
    "thumbnail": pl.Binary(),  # float32 pixels, row-major (DuckDB's fixed-size arrays of this
    # width do not survive the trip back through Arrow)
}


def labelled_files(landing_root: Path) -> list[tuple[str, str]]:
    """(relative location, label) of every file in a type folder of the archive, sorted; folders
    that are not one of the nine types are not labels and are left alone."""
    root = Path(landing_root)
    found = []
    for doc_type in DOCUMENT_TYPES:
        folder = root / LABELLED_FOLDER / doc_type
        if folder.is_dir():
            found.extend(
                (path.relative_to(root).as_posix(), doc_type)
                for path in sorted(folder.iterdir())
                if path.is_file() and not path.is_symlink() and not path.name.startswith(".")
            )
    return found


def corpus_frame(
    rows: Sequence[tuple[str, str, str]], readings: Sequence[DocumentReading]
) -> pl.DataFrame:
    """One row per readable labelled document: (location, label, content hash) and its reading."""
    return pl.DataFrame(
        {
            "content_sha256": [sha for _, _, sha in rows],
            "landing_path": [location for location, _, _ in rows],
            "doc_type": [label for _, label, _ in rows],
            "text": [r.ocr.text for r in readings],
            "ocr_engine": [str(r.ocr.engine) for r in readings],
            "ocr_confidence": [r.ocr.confidence for r in readings],
            "quality_score": [r.ocr.quality for r in readings],
            "page_count": [r.ocr.page_count for r in readings],
            "needs_review": [r.ocr.needs_review for r in readings],
            "thumbnail": [r.thumbnail.astype("<f4").tobytes() for r in readings],
        },
        schema=CORPUS_SCHEMA,
    )


def held_out_split(
    corpus: pl.DataFrame, fraction: float, seed: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(training, held-out) rows. When every type has two documents or more the split is
    stratified and holds out at least one document per type, so every type is both learnt and
    tested; otherwise it is a plain random split."""
    ordered = corpus.sort("content_sha256")
    labels = ordered["doc_type"].to_list()
    counts = ordered["doc_type"].value_counts()["count"]
    n_test = max(1, round(fraction * ordered.height))
    stratify = None
    if counts.min() >= 2:
        stratify, n_test = labels, max(n_test, counts.len())
    train, test = train_test_split(
        np.arange(ordered.height), test_size=n_test, random_state=seed, stratify=stratify
    )
    return ordered[np.sort(train)], ordered[np.sort(test)]


def classifier_inputs(corpus: pl.DataFrame) -> tuple[list[str], np.ndarray, list[str]]:
    """(texts, (N, size, size) thumbnails, labels) in the corpus' row order."""
    pixels = [np.frombuffer(data, "<f4") for data in corpus["thumbnail"]]
    thumbnails = np.stack(pixels).reshape(-1, THUMBNAIL_SIZE, THUMBNAIL_SIZE).astype(np.float32)
    return corpus["text"].to_list(), thumbnails, corpus["doc_type"].to_list()
