"""Reads one landing file and splits its rows into those that meet the contract and the rest.

Whole-file problems (empty, unreadable, missing columns, cut off mid-row) raise `UnreadableFile`
with the reason; row problems come back as a reason per rejected row, so a bad row never blocks its
good neighbours.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from roi_assets.ingestion.contracts import Column, Contract

POLARS_TYPES = {
    "VARCHAR": pl.String,
    "BIGINT": pl.Int64,
    "DOUBLE": pl.Float64,
    "BOOLEAN": pl.Boolean,
    "DATE": pl.Date,
    "TIMESTAMP": pl.Datetime("us"),
}
TIMESTAMP_FORMATS = (
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
)
ROW_NUMBER = "_row_number"
TEXT_FORMATS = ("csv", "jsonl")
EMPTY_FILE = "empty file"
TRUNCATED_FILE = "truncated: the last row is cut off (no line break at the end of the file)"


class UnreadableFile(Exception):
    """The file as a whole cannot be loaded; the message is the quarantine reason."""


@dataclass
class ValidatedFile:
    valid: pl.DataFrame  # contract columns, typed, plus _row_number
    rejected: pl.DataFrame  # _row_number, reason, record (the row as JSON text)


def read_rows(path: Path, contract: Contract) -> pl.DataFrame:
    """The file's rows as read, with a 1-based `_row_number`; raises UnreadableFile when the file
    is empty (no bytes, blanks or a header only), unreadable, lacks a column, or is cut mid-row."""
    if _is_blank(path):
        raise UnreadableFile(EMPTY_FILE)
    try:
        if contract.file_format == "csv":
            frame = pl.read_csv(path, infer_schema=False)
        elif contract.file_format == "parquet":
            frame = pl.read_parquet(path)
        elif contract.file_format == "jsonl":
            frame = _read_json_lines(path, contract)
        else:
            raise UnreadableFile(f"unsupported file format {contract.file_format!r}")
    except UnreadableFile:
        raise
    except Exception as error:  # every reader error means the same thing: quarantine the file
        raise UnreadableFile(f"unreadable {contract.file_format}: {error}".strip()[:500]) from error
    missing = [c for c in contract.column_names if c not in frame.columns]
    if missing:
        raise UnreadableFile(f"missing required column(s): {', '.join(missing)}")
    if frame.is_empty():
        raise UnreadableFile(EMPTY_FILE)
    if contract.file_format in TEXT_FORMATS and not _ends_with_line_break(path):
        # a reader fills a cut last row with nulls or keeps a cut value: only the end shows it
        raise UnreadableFile(TRUNCATED_FILE)
    return frame.with_row_index(ROW_NUMBER, offset=1).with_columns(
        pl.col(ROW_NUMBER).cast(pl.Int64)
    )


def _is_blank(path: Path) -> bool:
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            if block.strip():
                return False
    return True


def _ends_with_line_break(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"


def _read_json_lines(path: Path, contract: Contract) -> pl.DataFrame:
    """Line by line, so one malformed line is a rejected row rather than an unreadable file."""
    columns = contract.column_names
    rows: list[dict[str, str | None]] = []
    with path.open("r", encoding="utf-8", errors="strict") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not an object")
            except ValueError:
                rows.append({c: None for c in columns} | {"_unparsable": line[:200]})
                continue
            rows.append(
                {c: None if record.get(c) is None else str(record[c]) for c in columns}
                | {"_unparsable": None}
            )
    if not rows:
        raise UnreadableFile(EMPTY_FILE)
    schema = {c: pl.String for c in [*columns, "_unparsable"]}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _coerce(column: Column, source: pl.Expr, source_type: pl.DataType) -> pl.Expr:
    target = POLARS_TYPES[column.type]
    if source_type == pl.String:
        text = (
            pl.when(source.str.strip_chars() == "").then(None).otherwise(source.str.strip_chars())
        )
        if column.type == "VARCHAR":
            return text
        if column.type == "TIMESTAMP":
            return pl.coalesce(
                [text.str.to_datetime(f, strict=False, time_unit="us") for f in TIMESTAMP_FORMATS]
            )
        if column.type == "DATE":
            return text.str.to_date("%Y-%m-%d", strict=False)
        if column.type == "BOOLEAN":
            lowered = text.str.to_lowercase()
            return (
                pl.when(lowered.is_in(["true", "1", "t", "yes"]))
                .then(True)
                .when(lowered.is_in(["false", "0", "f", "no"]))
                .then(False)
                .otherwise(None)
            )
        return text.cast(target, strict=False)
    if isinstance(source_type, pl.Datetime) and source_type.time_zone is not None:
        source = source.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return source.cast(target, strict=False)


def validate_rows(frame: pl.DataFrame, contract: Contract) -> ValidatedFile:
    """Type every column and collect, per row, every reason it breaks the contract."""
    typed, reasons = [], []
    for column in contract.columns:
        source = pl.col(column.name)
        value = _coerce(column, source, frame.schema[column.name]).alias(column.name)
        typed.append(value)
        shown = source.cast(pl.String)
        absent = source.is_null() | (shown.str.strip_chars() == "")
        if column.required:
            reasons.append(pl.when(absent).then(pl.lit(f"{column.name} is required")))
        reasons.append(
            pl.when(~absent & value.is_null()).then(
                pl.concat_str(
                    [pl.lit(f"{column.name}: '"), shown, pl.lit(f"' is not a valid {column.type}")]
                )
            )
        )
        if column.allowed is not None:
            reasons.append(
                pl.when(value.is_not_null() & ~value.is_in(list(column.allowed))).then(
                    pl.concat_str([pl.lit(f"{column.name}: '"), shown, pl.lit("' is not allowed")])
                )
            )
        if column.minimum is not None:
            reasons.append(
                pl.when(value < column.minimum).then(
                    pl.concat_str(
                        [pl.lit(f"{column.name}: "), shown, pl.lit(f" < {column.minimum}")]
                    )
                )
            )
        if column.maximum is not None:
            reasons.append(
                pl.when(value > column.maximum).then(
                    pl.concat_str(
                        [pl.lit(f"{column.name}: "), shown, pl.lit(f" > {column.maximum}")]
                    )
                )
            )
    if "_unparsable" in frame.columns:
        reasons.insert(
            0, pl.when(pl.col("_unparsable").is_not_null()).then(pl.lit("not valid JSON"))
        )
    checked = frame.with_columns(
        pl.concat_str(reasons, separator="; ", ignore_nulls=True).alias("_reason"),
        _record().alias("_record"),
    )
    bad = pl.col("_reason") != ""
    valid = checked.filter(~bad).select(pl.col(ROW_NUMBER), *typed)
    rejected = checked.filter(bad).select(
        pl.col(ROW_NUMBER), pl.col("_reason").alias("reason"), pl.col("_record").alias("record")
    )
    return ValidatedFile(valid=valid, rejected=rejected)


def _record() -> pl.Expr:
    """The row as read, as JSON text, without its row number."""
    return pl.struct(pl.exclude(ROW_NUMBER)).struct.json_encode()


def row_records(frame: pl.DataFrame) -> pl.DataFrame:
    """Every row as read (`read_rows`), as `_row_number` and `record`: what quarantine keeps of a
    file that is set aside whole but whose rows must not be lost."""
    return frame.select(pl.col(ROW_NUMBER), _record().alias("record"))


def validate_file(path: Path, contract: Contract) -> ValidatedFile:
    return validate_rows(read_rows(path, contract), contract)
