"""Publishes the BI-facing schemas to a separate DuckDB file by atomic replace.

DuckDB lets one process write a file and no other process read it meanwhile, so BI tools never
open the working warehouse: they read `bi.duckdb`, which is rebuilt next to it and swapped in with
a rename, so a reader sees either the old or the new copy, never a half-written one.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

BI_SCHEMAS = ("features", "marts", "monitoring")


def publish_bi_copy(con: duckdb.DuckDBPyConnection, target: Path) -> dict[str, int]:
    """Copy every table of BI_SCHEMAS into `target`; returns row counts per table."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database() and table_schema in (?, ?, ?) "
        "and table_type = 'BASE TABLE' order by 1, 2",
        list(BI_SCHEMAS),
    ).fetchall()
    counts: dict[str, int] = {}
    con.execute(f"attach '{partial}' as bi_copy")
    try:
        for schema, table in tables:
            con.execute(f"create schema if not exists bi_copy.{schema}")
            con.execute(f"create table bi_copy.{schema}.{table} as select * from {schema}.{table}")
            counts[f"{schema}.{table}"] = con.execute(
                f"select count(*) from bi_copy.{schema}.{table}"
            ).fetchone()[0]
    finally:
        con.execute("detach bi_copy")
    os.replace(partial, target)
    return counts
