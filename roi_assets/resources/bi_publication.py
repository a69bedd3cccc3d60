"""Publishes the BI-facing schemas to a separate DuckDB file by atomic replace.

DuckDB lets one process write a file and no other process read it meanwhile, so BI tools never
open the working warehouse: they read `bi.duckdb`, which is rebuilt next to it and swapped in with
a rename, so a reader sees either the old or the new copy, never a half-written one. A publication
killed half-way leaves only its partial file (and the partial's write-ahead log), which the next
publication deletes before it starts.

Every table with a contract (`resources.table_contracts`) is in the copy, empty when the
deployment has not written it yet: BI queries written against docs/tables.md work from the
first run on.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from roi_assets.resources.table_contracts import CONTRACTS, ensure_tables

BI_SCHEMAS = ("features", "marts", "monitoring")
COPY_CATALOG = "bi_copy"


def partial_path(target: Path) -> Path:
    """Where the next copy is built before it replaces `target`."""
    return target.with_name(f".{target.name}.partial")


def _remove_leftovers(partial: Path) -> None:
    # A stale write-ahead log next to a new partial file would be replayed into it.
    for leftover in (partial, partial.with_name(partial.name + ".wal")):
        leftover.unlink(missing_ok=True)


def publish_bi_copy(con: duckdb.DuckDBPyConnection, target: Path) -> dict[str, int]:
    """Copy every table of BI_SCHEMAS into `target`, and create the contract tables nothing has
    written yet; returns row counts per table."""
    partial = partial_path(target)
    _remove_leftovers(partial)
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database() and table_schema in (?, ?, ?) "
        "and table_type = 'BASE TABLE' order by 1, 2",
        list(BI_SCHEMAS),
    ).fetchall()
    counts: dict[str, int] = {}
    con.execute(f"attach '{partial}' as {COPY_CATALOG}")
    try:
        for schema, table in tables:
            con.execute(f"create schema if not exists {COPY_CATALOG}.{schema}")
            con.execute(
                f"create table {COPY_CATALOG}.{schema}.{table} as select * from {schema}.{table}"
            )
            counts[f"{schema}.{table}"] = con.execute(
                f"select count(*) from {COPY_CATALOG}.{schema}.{table}"
            ).fetchone()[0]
        for name in ensure_tables(con, COPY_CATALOG):
            if CONTRACTS[name].schema in BI_SCHEMAS:
                counts[name] = 0
        con.execute(f"checkpoint {COPY_CATALOG}")
    finally:
        con.execute(f"detach {COPY_CATALOG}")
    os.replace(partial, target)
    return dict(sorted(counts.items()))
