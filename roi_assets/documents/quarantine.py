"""Documents refused at intake go to `raw.quarantine`, the table ingestion quarantines files in.

One row per refused file, with the reason code and the sentence from `intake.validate_document`.
Recording the same file again replaces its row, so re-running a partition duplicates nothing. The
landed file itself is never moved or changed: the quarantine is a record, not a folder.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb

from roi_assets.documents.intake import IntakeResult
from roi_assets.ingestion.loader import QUARANTINE, RAW_SCHEMA

# The columns of ingestion's quarantine table (`ingestion.loader.ensure_raw_tables`), created here
# too because a document may be refused before any other source was ever loaded.
_CREATE_QUARANTINE = f"""
create table if not exists {QUARANTINE} (
    source varchar not null, source_file varchar not null, file_hash varchar not null,
    row_number bigint, reason varchar not null, record varchar,
    quarantined_at timestamp not null)
"""


def quarantine_reason(intake: IntakeResult) -> str:
    """`<reason code>: <sentence>`, e.g. `empty_file: the file is empty (0 bytes)`."""
    return f"{intake.reason}: {intake.message}"


def quarantine_document(
    con: duckdb.DuckDBPyConnection,
    intake: IntakeResult,
    *,
    source: str,
    location: str,
    file_hash: str,
) -> None:
    """Record a refused document (replacing an earlier record of the same file at the same
    location)."""
    if intake.accepted:
        raise ValueError(f"{location} was accepted; only refused documents are quarantined")
    record = json.dumps({"reason_code": str(intake.reason), "size_bytes": intake.size_bytes})
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(_CREATE_QUARANTINE)
    con.begin()
    try:
        con.execute(
            f"delete from {QUARANTINE} where source = ? and source_file = ? and file_hash = ?",
            [source, location, file_hash],
        )
        con.execute(
            f"insert into {QUARANTINE} values (?, ?, ?, null, ?, ?, ?)",
            [source, location, file_hash, quarantine_reason(intake), record, now],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
