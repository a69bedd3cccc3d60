"""Loads landing files into `raw.*` incrementally, idempotently and atomically.

A file is recognised by the SHA-256 of its content: one already in the ledger
(`raw.ingested_files`) is skipped, whatever its name. Each file's valid rows, rejected rows and
ledger entry are written in one transaction, so a run killed half-way leaves every file either
fully loaded or untouched, and a re-run duplicates nothing. Landing files are only ever read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from roi_assets.ingestion.contracts import Contract
from roi_assets.ingestion.validation import ROW_NUMBER, UnreadableFile, validate_file

RAW_SCHEMA = "raw"
LEDGER = f"{RAW_SCHEMA}.ingested_files"
QUARANTINE = f"{RAW_SCHEMA}.quarantine"
EXTENSIONS = {"csv": (".csv",), "parquet": (".parquet",), "jsonl": (".jsonl", ".json")}


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


def landing_files(landing_dir: Path, contract: Contract) -> list[Path]:
    """Complete files of a source, oldest name first; hidden/partial files are still arriving."""
    folder = landing_dir / contract.source
    if not folder.exists():
        return []
    suffixes = EXTENSIONS[contract.file_format]
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in suffixes
    )


def ingest_source(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, contract: Contract
) -> IngestReport:
    ensure_raw_tables(con, contract)
    report = IngestReport(source=contract.source)
    known = {
        row[0]
        for row in con.execute(
            f"select file_hash from {LEDGER} where source = ?", [contract.source]
        ).fetchall()
    }
    for path in landing_files(landing_dir, contract):
        file_hash = file_sha256(path)
        if file_hash in known:
            report.files_skipped += 1
            continue
        _ingest_file(con, landing_dir, path, file_hash, contract, report)
        known.add(file_hash)
    return report


def _ingest_file(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    path: Path,
    file_hash: str,
    contract: Contract,
    report: IngestReport,
) -> None:
    relative = str(path.relative_to(landing_dir))
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
                [contract.source, relative, file_hash, reason, now],
            )
            loaded = rejected = 0
        else:
            loaded, rejected = len(validated.valid), len(validated.rejected)
            valid = validated.valid.with_columns(
                pl.lit(relative).alias("_source_file"),
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
                    [contract.source, relative, file_hash, now],
                )
                con.unregister("rejected_rows")
        con.execute(
            f"insert into {LEDGER} values (?, ?, ?, ?, ?, ?, ?, ?)",
            [contract.source, relative, file_hash, status, loaded, rejected, reason, now],
        )
        con.commit()
    except BaseException:  # an interrupt too: the file must stay all-or-nothing
        con.rollback()
        raise
    if validated is None:
        report.files_quarantined.append((relative, reason or ""))
    else:
        report.files_loaded.append(relative)
        report.rows_loaded += loaded
        report.rows_quarantined += rejected
