"""Loads a source's daily landing files into `raw.*`, day by day, idempotently and atomically.

The run for a day takes the files the day rules (`daily_files`) give it. Each file's valid rows,
quarantined rows and ledger entry (`raw.ingested_files`) are written in one transaction, so a run
killed half-way leaves every file either fully handled or untouched, and a re-run duplicates
nothing: a file whose name is in the ledger is never read again. A file with the same bytes as one
already loaded under another name is quarantined as its duplicate, and so is a second, different
file for a day that already has one loaded (one file per source per day). Files that cannot be
loaded (no date in the name, empty, cut off, unreadable, too late) are quarantined with the
reason; the rows of a file that came too late are kept there. Landing files are only ever read.

Files come from the local landing folder and, when one is configured, from the landing zone's S3
prefix; an S3 object is downloaded to a temporary file when it is read, and the ledger names it by
its S3 URI.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from roi_assets.ingestion.contracts import Contract
from roi_assets.ingestion.daily_files import (
    DueFile,
    Timing,
    due_on,
    landing_date,
    too_late_reason,
)
from roi_assets.ingestion.validation import (
    ROW_NUMBER,
    UnreadableFile,
    read_rows,
    row_records,
    validate_rows,
)
from roi_assets.resources.s3_landing import downloaded, folder_prefix, object_keys, s3_uri

RAW_SCHEMA = "raw"
LEDGER = f"{RAW_SCHEMA}.ingested_files"
QUARANTINE = f"{RAW_SCHEMA}.quarantine"
LANDING_DATE = "_landing_date"  # the date in the landing file's name; dbt's incremental filter
BOOKKEEPING_COLUMNS = ("_source_file", "_file_hash", ROW_NUMBER, "_loaded_at", LANDING_DATE)
EXTENSIONS = {"csv": (".csv",), "parquet": (".parquet",), "jsonl": (".jsonl", ".json")}
LOADED, QUARANTINED = "loaded", "quarantined"

# A landing file: the name the ledger records, and its bytes as a local file while entered.
LandedFile = tuple[str, AbstractContextManager[Path]]

_LEDGER_COLUMNS = (
    "source varchar not null, source_file varchar not null, file_hash varchar not null, "
    "status varchar not null, rows_loaded bigint not null, rows_quarantined bigint not null, "
    "reason varchar, loaded_at timestamp not null, landing_date date, ingested_for date"
)
_LEDGER_BEFORE_DAILY = (
    "source, source_file, file_hash, status, rows_loaded, rows_quarantined, reason, loaded_at"
)


@dataclass
class FileOutcome:
    """What became of one landing file."""

    name: str
    landing_date: dt.date | None
    status: str  # loaded | quarantined
    reason: str | None = None
    rows_landed: int = 0  # rows read from the file (0 when it could not be read)
    rows_loaded: int = 0
    rows_quarantined: int = 0
    days_late: int = 0


@dataclass
class DayReport:
    day: dt.date
    has_file: bool  # a file named for the day exists (handled now or before)
    files: list[FileOutcome] = field(default_factory=list)


@dataclass
class IngestReport:
    source: str
    days: list[DayReport] = field(default_factory=list)
    undated: list[FileOutcome] = field(default_factory=list)  # names without a landing date

    @property
    def outcomes(self) -> list[FileOutcome]:
        return [f for d in self.days for f in d.files] + self.undated

    @property
    def files_loaded(self) -> list[str]:
        return [f.name for f in self.outcomes if f.status == LOADED]

    @property
    def files_quarantined(self) -> list[tuple[str, str]]:
        return [(f.name, f.reason or "") for f in self.outcomes if f.status == QUARANTINED]

    @property
    def late_files(self) -> list[FileOutcome]:
        return [f for f in self.outcomes if f.days_late > 0]

    @property
    def days_without_file(self) -> list[dt.date]:
        return [d.day for d in self.days if not d.has_file]

    @property
    def rows_landed(self) -> int:
        return sum(f.rows_landed for f in self.outcomes)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.outcomes)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.outcomes)


@dataclass
class _Verdict:
    """A file's rows split into what enters the raw table and what goes to quarantine."""

    status: str
    reason: str | None
    valid: pl.DataFrame | None  # contract columns and _row_number
    quarantined: pl.DataFrame  # _row_number (null for the file as a whole), reason, record
    rows_landed: int

    @property
    def rows_loaded(self) -> int:
        return 0 if self.valid is None else len(self.valid)

    @property
    def rows_quarantined(self) -> int:
        """Quarantined rows of the file (a whole-file entry has no row number)."""
        return self.quarantined[ROW_NUMBER].count()


@dataclass
class _Ledger:
    """What the ledger already holds for a source, kept current during a run."""

    handled: set[str]  # every file name with a verdict
    loaded_by_hash: dict[str, str]  # content hash -> name of the file loaded with it
    loaded_by_date: dict[dt.date, str]  # landing date -> name of the file loaded for it
    dates: set[dt.date]  # landing dates of handled files


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    """Create the ledger, quarantine and the source's table, migrating older shapes in place."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    _ensure_ledger(con)
    con.execute(
        f"""create table if not exists {QUARANTINE} (
            source varchar not null, source_file varchar not null, file_hash varchar not null,
            row_number bigint, reason varchar not null, record varchar,
            quarantined_at timestamp not null)"""
    )
    columns = ", ".join(f"{c.name} {c.type}" for c in contract.columns)
    table = f"{RAW_SCHEMA}.{contract.table}"
    con.execute(
        f"""create table if not exists {table} ({columns},
            _source_file varchar not null, _file_hash varchar not null,
            _row_number bigint not null, _loaded_at timestamp not null, {LANDING_DATE} date)"""
    )
    con.execute(f"alter table {table} add column if not exists {LANDING_DATE} date")


def _ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    """A ledger from before daily files (keyed by content hash alone, so it could not hold two
    empty files or a duplicate's verdict) is rebuilt with its rows, keyed by file and content."""
    key = "primary key (source, source_file, file_hash)"
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [RAW_SCHEMA, "ingested_files"],
    ).fetchone()[0]
    if not exists:
        con.execute(f"create table {LEDGER} ({_LEDGER_COLUMNS}, {key})")
        return
    current = {
        row[0]
        for row in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
            [RAW_SCHEMA, "ingested_files"],
        ).fetchall()
    }
    if "ingested_for" in current:
        return
    con.begin()
    try:
        con.execute(f"alter table {LEDGER} rename to ingested_files_before_daily")
        con.execute(f"create table {LEDGER} ({_LEDGER_COLUMNS}, {key})")
        con.execute(
            f"""insert into {LEDGER} ({_LEDGER_BEFORE_DAILY})
                select {_LEDGER_BEFORE_DAILY} from {RAW_SCHEMA}.ingested_files_before_daily"""
        )
        con.execute(f"drop table {RAW_SCHEMA}.ingested_files_before_daily")
        con.commit()
    except BaseException:
        con.rollback()
        raise


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
    """Load a source's local landing folder as one backfill over every day its files are named
    for, from the earliest to the latest."""
    files = list(local_landed_files(landing_dir, contract))
    dates = [d for name, _ in files if (d := landing_date(name, contract.source)) is not None]
    days = (
        [min(dates) + dt.timedelta(days=i) for i in range((max(dates) - min(dates)).days + 1)]
        if dates
        else []
    )
    return ingest_days(con, contract, files, days)


def ingest_days(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    files: Iterable[LandedFile],
    days: Sequence[dt.date],
) -> IngestReport:
    """Run the given days in date order over the source's landing files, one transaction per
    file. Files whose name carries no date belong to no day: the first run that sees them
    quarantines them."""
    ensure_raw_tables(con, contract)
    ledger = _read_ledger(con, contract)
    copies = dict(files)
    dated = {name: landing_date(name, contract.source) for name in copies}
    report = IngestReport(source=contract.source)
    first_day = min(days, default=None)
    for name in sorted(n for n, d in dated.items() if d is None and n not in ledger.handled):
        report.undated.append(
            _ingest_file(con, contract, name, copies[name], first_day, ledger, due=None)
        )
    named = [(name, d) for name, d in dated.items() if d is not None]
    for day in sorted(days):
        result = DayReport(day, has_file=day in ledger.dates or any(d == day for _, d in named))
        for due in due_on(day, named, ledger.handled):
            result.files.append(
                _ingest_file(con, contract, due.name, copies[due.name], day, ledger, due)
            )
        report.days.append(result)
    return report


def rows_named_for(
    con: duckdb.DuckDBPyConnection, contract: Contract, days: Sequence[dt.date]
) -> int:
    """Rows of the source's table whose landing file is named for one of `days`."""
    return con.execute(
        f"""select count(*) from {RAW_SCHEMA}.{contract.table}
            where list_contains(?, {LANDING_DATE})""",
        [list(days)],
    ).fetchone()[0]


def quarantine_counts(
    con: duckdb.DuckDBPyConnection, contract: Contract, days: Sequence[dt.date] | None
) -> tuple[int, int]:
    """(rows loaded, quarantine rows) of the files the runs for `days` handled; of every file
    when `days` is None."""
    if days is None:
        loaded = f"select count(*) from {RAW_SCHEMA}.{contract.table}"
        quarantined = f"select count(*) from {QUARANTINE} where source = ?"
        return (
            con.execute(loaded).fetchone()[0],
            con.execute(quarantined, [contract.source]).fetchone()[0],
        )
    loaded = con.execute(
        f"""select coalesce(sum(rows_loaded), 0) from {LEDGER}
            where source = ? and list_contains(?, ingested_for)""",
        [contract.source, list(days)],
    ).fetchone()[0]
    quarantined = con.execute(
        f"""select count(*) from {QUARANTINE} q join {LEDGER} l
                using (source, source_file, file_hash)
            where l.source = ? and list_contains(?, l.ingested_for)""",
        [contract.source, list(days)],
    ).fetchone()[0]
    return int(loaded), int(quarantined)


def _read_ledger(con: duckdb.DuckDBPyConnection, contract: Contract) -> _Ledger:
    rows = con.execute(
        f"""select source_file, file_hash, status, landing_date from {LEDGER}
            where source = ? order by loaded_at, source_file""",
        [contract.source],
    ).fetchall()
    by_hash: dict[str, str] = {}
    by_date: dict[dt.date, str] = {}
    for name, file_hash, status, named_for in rows:
        if status == LOADED:
            by_hash.setdefault(file_hash, name)
            if named_for is not None:
                by_date.setdefault(named_for, name)
    return _Ledger(
        handled={r[0] for r in rows},
        loaded_by_hash=by_hash,
        loaded_by_date=by_date,
        dates={r[3] for r in rows if r[3] is not None},
    )


def _ingest_file(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    name: str,
    local_copy: AbstractContextManager[Path],
    ingested_for: dt.date | None,
    ledger: _Ledger,
    due: DueFile | None,
) -> FileOutcome:
    """Judge and commit one file (`due` is None for a name without a landing date)."""
    named_for = None if due is None else due.landing_date
    with local_copy as path:
        file_hash = file_sha256(path)
        verdict = _judge(path, file_hash, due, contract, ledger)
        _commit(con, contract, name, file_hash, named_for, ingested_for, verdict)
    ledger.handled.add(name)
    if named_for is not None:
        ledger.dates.add(named_for)
    if verdict.status == LOADED:
        ledger.loaded_by_hash.setdefault(file_hash, name)
        if named_for is not None:
            ledger.loaded_by_date.setdefault(named_for, name)
    return FileOutcome(
        name=name,
        landing_date=named_for,
        status=verdict.status,
        reason=verdict.reason,
        rows_landed=verdict.rows_landed,
        rows_loaded=verdict.rows_loaded,
        rows_quarantined=verdict.rows_quarantined,
        days_late=0 if due is None else due.days_late,
    )


def _judge(
    path: Path, file_hash: str, due: DueFile | None, contract: Contract, ledger: _Ledger
) -> _Verdict:
    """The day rules and the contract, applied to one file's bytes."""
    if file_hash in ledger.loaded_by_hash:
        return _whole_file(f"duplicate of {ledger.loaded_by_hash[file_hash]}")
    if due is None:
        return _whole_file(f"no landing date in the name (expected {contract.source}_YYYY-MM-DD)")
    if due.landing_date in ledger.loaded_by_date:
        first = ledger.loaded_by_date[due.landing_date]
        return _whole_file(f"a second file for {due.landing_date}: {first} is already loaded")
    try:
        frame = read_rows(path, contract)
    except UnreadableFile as error:
        return _whole_file(str(error))
    if due.timing == Timing.TOO_LATE:
        reason = too_late_reason(due.days_late)
        kept = row_records(frame).with_columns(pl.lit(reason).alias("reason"))
        return _Verdict(QUARANTINED, reason, None, kept, len(frame))
    validated = validate_rows(frame, contract)
    return _Verdict(LOADED, None, validated.valid, validated.rejected, len(frame))


def _whole_file(reason: str) -> _Verdict:
    quarantined = pl.DataFrame(
        {ROW_NUMBER: [None], "reason": [reason], "record": [None]},
        schema={ROW_NUMBER: pl.Int64, "reason": pl.String, "record": pl.String},
    )
    return _Verdict(QUARANTINED, reason, None, quarantined, 0)


def _commit(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    name: str,
    file_hash: str,
    named_for: dt.date | None,
    ingested_for: dt.date | None,
    verdict: _Verdict,
) -> None:
    """The file's rows, quarantined rows and ledger entry, all or nothing."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.begin()
    try:
        if verdict.valid is not None:
            valid = verdict.valid.with_columns(
                pl.lit(name).alias("_source_file"),
                pl.lit(file_hash).alias("_file_hash"),
                pl.lit(now).alias("_loaded_at"),
                pl.lit(named_for, dtype=pl.Date).alias(LANDING_DATE),
            )
            con.register("valid_rows", valid.to_arrow())
            columns = ", ".join([*contract.column_names, *BOOKKEEPING_COLUMNS])
            con.execute(
                f"""insert into {RAW_SCHEMA}.{contract.table} ({columns})
                    select {columns} from valid_rows"""
            )
            con.unregister("valid_rows")
        if len(verdict.quarantined):
            con.register("quarantined_rows", verdict.quarantined.to_arrow())
            con.execute(
                f"""insert into {QUARANTINE}
                    select ?, ?, ?, {ROW_NUMBER}, reason, record, ? from quarantined_rows""",
                [contract.source, name, file_hash, now],
            )
            con.unregister("quarantined_rows")
        con.execute(
            f"insert into {LEDGER} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                contract.source,
                name,
                file_hash,
                verdict.status,
                verdict.rows_loaded,
                verdict.rows_quarantined,
                verdict.reason,
                now,
                named_for,
                ingested_for,
            ],
        )
        con.commit()
    except BaseException:  # an interrupt too: the file must stay all-or-nothing
        con.rollback()
        raise
