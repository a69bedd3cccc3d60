"""The document classifier's confidence on the archive's held-out documents, kept per version.

Document drift compares the champion's confidence on new documents with its confidence on the
held-out archive (`document_drift`). A registered version never changes, and neither does a held-out
document's input unless it is read again, so the confidence is computed once per version and input
and kept in `monitoring.document_held_out_confidence`; on a day with a known champion the drift
report reads it instead of loading the classifier and scoring the archive again (about a second a
day at the default scale). The input digest covers what the classifier reads (the OCR text and
the thumbnail): a document read again by a newer OCR is scored again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import duckdb
import polars as pl

from roi_assets.resources.table_contracts import create_statement
from roi_assets.resources.warehouse import table_exists, upsert_rows

TABLE = "monitoring.document_held_out_confidence"
_CREATE_TABLE = create_statement(TABLE)


def input_digests(corpus: pl.DataFrame) -> list[str]:
    """One SHA-256 per row of what the classifier reads: its text and its thumbnail's bytes."""
    return [
        hashlib.sha256(text.encode() + b"\0" + bytes(thumbnail)).hexdigest()
        for text, thumbnail in zip(corpus["text"], corpus["thumbnail"], strict=True)
    ]


def stored_confidences(
    con: duckdb.DuckDBPyConnection, model_name: str, model_version: str, digests: Sequence[str]
) -> list[float] | None:
    """The version's stored confidence for each digest, in their order; None unless every one
    is stored."""
    if not digests or not table_exists(con, *TABLE.split(".")):
        return None
    stored = dict(
        con.execute(
            f"select input_sha256, confidence from {TABLE} "
            "where model_name = ? and model_version = ? and input_sha256 in (select unnest(?))",
            [model_name, model_version, list(digests)],
        ).fetchall()
    )
    if any(digest not in stored for digest in digests):
        return None
    return [stored[digest] for digest in digests]


def store_confidences(
    con: duckdb.DuckDBPyConnection,
    model_name: str,
    model_version: str,
    digests: Sequence[str],
    confidences: Sequence[float],
) -> None:
    """Keep the version's confidence for each digest (a digest already stored is left alone)."""
    rows = pl.DataFrame(
        {
            "model_name": model_name,
            "model_version": model_version,
            "input_sha256": list(digests),
            "confidence": [float(value) for value in confidences],
        }
    ).unique("input_sha256", keep="first", maintain_order=True)
    upsert_rows(con, TABLE, _CREATE_TABLE, rows, on_conflict="ignore")
