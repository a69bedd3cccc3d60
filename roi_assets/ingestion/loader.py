"""Loads landing files into `raw.*` incrementally, idempotently and atomically.

A file is recognised by the SHA-256 of its content: one already in the ledger
(`raw.ingested_files`) is skipped, whatever its name. Each file's valid rows, rejected rows and
ledger entry are written in one transaction, so a run killed half-way leaves every file either
fully loaded or untouched, and a re-run duplicates nothing. Landing files are only ever read.

Files come from the local landing folder and, when one is configured, from the landing zone's S3
prefix; an S3 object is downloaded to a temporary file, and the ledger names it by its S3 URI.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from roi_assets.ingestion.contracts import Contract
from roi_assets.ingestion.validation import ROW_NUMBER, UnreadableFile, validate_file
from roi_assets.resources.s3_landing import downloaded, folder_prefix, object_keys, s3_uri

RAW_SCHEMA = "raw"
LEDGER = f"{RAW_SCHEMA}.ingested_files"
QUARANTINE = f"{RAW_SCHEMA}.quarantine"
EXTENSIONS = {"csv": (".csv",), "parquet": (".parquet",), "jsonl": (".jsonl", ".json")}

# A landing file: the name the ledger records, and its bytes as a local file while entered.
LandedFile = tuple[str, AbstractContextManager[Path]]


@dataclass
class IngestReport:
    source: str
    files_loaded: list[str] = field(default_factory=list)
    files_skipped: int = 0
    files_quarantined: list[tuple[str, str]] = field(default_factory=list)
    rows_loaded: int = 0
    rows_quarantined: int = 0


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(
        f"""create table if not exists {LEDGER} (
            source varchar not null, source_file varchar not null,
            file_hash varchar primary key, status varchar not null,
            rows_loaded bigint not null, rows_quarantined bigint not null,
            reason varchar, loaded_at timestamp not null)"""
    )
    con.execute(
        f"""create table if not exists {QUARANTINE} (
            source varchar not null, source_file varchar not null, file_hash varchar not null,
            row_number bigint, reason varchar not null, record varchar,
            quarantined_at timestamp not null)"""
    )
    columns = ", ".join(f"{c.name} {c.type}" for c in contract.columns)
    con.execute(
        f"""create table if not exists {RAW_SCHEMA}.{contract.table} ({columns},
            _source_file varchar not null, _file_hash varchar not null,
            _row_number bigint not null, _loaded_at timestamp not null)"""
    )


def is_complete_file(name: str, contract: Contract) -> bool:
    """A file of the source's format; hidden or partial names (".x.csv", "x.csv.part") are still
    arriving."""
    return (
        not name.startswith(".") and Path(name).suffix.lower() in EXTENSIONS[contract.file_format]
    )


def landing_files(landing_dir: Path, contract: Contract) -> list[Path]:
    """Complete files of a source, oldest name first."""
    folder = landing_dir / contract.source
    if not folder.exists():
        return []
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and is_complete_file(p.name, contract)
    )


def local_landed_files(landing_dir: Path, contract: Contract) -> Iterator[LandedFile]:
    """A source's files in the local landing folder, named relative to it."""
    for path in landing_files(landing_dir, contract):
        yield str(path.relative_to(landing_dir)), nullcontext(path)


def s3_landed_files(
    client: Any, bucket: str, landing_prefix: str, contract: Contract
) -> Iterator[LandedFile]:
    """A source's objects under the landing zone's S3 prefix, in key order, named by URI; each is
    downloaded only when it is entered."""
    for key in object_keys(client, bucket, folder_prefix(landing_prefix, contract.source)):
        if is_complete_file(key.rsplit("/", 1)[-1], contract):
            yield s3_uri(bucket, key), downloaded(client, bucket, key)


def ingest_source(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, contract: Contract
) -> IngestReport:
    """Load a source's new files from the local landing folder."""
    return ingest_files(con, contract, local_landed_files(landing_dir, contract))


def ingest_files(
    con: duckdb.DuckDBPyConnection, contract: Contract, files: Iterable[LandedFile]
) -> IngestReport:
    """Load the files not yet in the ledger, one transaction each."""
    ensure_raw_tables(con, contract)
    report = IngestReport(source=contract.source)
    known = {
        row[0]
        for row in con.execute(
            f"select file_hash from {LEDGER} where source = ?", [contract.source]
        ).fetchall()
    }
    for name, local_copy in files:
        with local_copy as path:
            file_hash = file_sha256(path)
            if file_hash in known:
                report.files_skipped += 1
                continue
            _ingest_file(con, name, path, file_hash, contract, report)
        known.add(file_hash)
    return report


def _ingest_file(
    con: duckdb.DuckDBPyConnection,
    name: str,
    path: Path,
    file_hash: str,
    contract: Contract,
    report: IngestReport,
) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        validated = validate_file(path, contract)
        status, reason = "loaded", None
    except UnreadableFile as error:
        validated, status, reason = None, "quarantined", str(error)

    con.begin()
    try:
        if validated is None:
            con.execute(
                f"insert into {QUARANTINE} values (?, ?, ?, null, ?, null, ?)",
                [contract.source, name, file_hash, reason, now],
            )
            loaded = rejected = 0
        else:
            loaded, rejected = len(validated.valid), len(validated.rejected)
            valid = validated.valid.with_columns(
                pl.lit(name).alias("_source_file"),
                pl.lit(file_hash).alias("_file_hash"),
                pl.lit(now).alias("_loaded_at"),
            )
            con.register("valid_rows", valid.to_arrow())
            columns = ", ".join(contract.column_names)
            con.execute(
                f"""insert into {RAW_SCHEMA}.{contract.table}
                    select {columns}, _source_file, _file_hash, {ROW_NUMBER}, _loaded_at
                    from valid_rows"""
            )
            con.unregister("valid_rows")
            if rejected:
                con.register("rejected_rows", validated.rejected.to_arrow())
                con.execute(
                    f"""insert into {QUARANTINE}
                        select ?, ?, ?, {ROW_NUMBER}, reason, record, ? from rejected_rows""",
                    [contract.source, name, file_hash, now],
                )
                con.unregister("rejected_rows")
        con.execute(
            f"insert into {LEDGER} values (?, ?, ?, ?, ?, ?, ?, ?)",
            [contract.source, name, file_hash, status, loaded, rejected, reason, now],
        )
        con.commit()
    except BaseException:  # an interrupt too: the file must stay all-or-nothing
        con.rollback()
        raise
    if validated is None:
        report.files_quarantined.append((name, reason or ""))
    else:
        report.files_loaded.append(name)
        report.rows_loaded += loaded
        report.rows_quarantined += rejected
