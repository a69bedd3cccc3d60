"""The DuckDB warehouse: one file, one writer at a time.

Dagster code reaches it through `DuckDBResource` (SQL) and `DuckDBPolarsIOManager` (assets that
return polars frames are stored as `<schema>.<table>` from their asset key). Plain modules and
scripts use `connect()`. Every connection opens with the settings' `memory_limit` and
`temp_directory` (settings.duckdb_config), so a world larger than memory spills instead of
failing. DuckDB allows one writing process per file, so every writer runs inside
the `warehouse` concurrency pool (see dagster.yaml) and never holds a connection across a dbt call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource
from dagster_duckdb_polars import DuckDBPolarsIOManager

from roi_assets import settings

WAREHOUSE_POOL = "warehouse"


class WarehouseResource(DuckDBResource):
    """dagster-duckdb's resource, its connection closed when the block raises too.

    Upstream's `get_connection` closes the connection only after a block that succeeded; after a
    failed step the traceback Dagster keeps holds the connection, and with it DuckDB's hold on the
    file, so a long-lived process running one job after another (`make live`) can no longer open
    the warehouse with other settings (read-only) or from a subprocess (dbt)."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with super().get_connection() as connection:
            try:
                yield connection
            finally:
                connection.close()


def duckdb_resource(path: Path | None = None) -> DuckDBResource:
    return WarehouseResource(
        database=str(path or settings.warehouse_path()), connection_config=settings.duckdb_config()
    )


def polars_io_manager(path: Path | None = None) -> DuckDBPolarsIOManager:
    return DuckDBPolarsIOManager(
        database=str(path or settings.warehouse_path()), connection_config=settings.duckdb_config()
    )


@contextmanager
def connect(
    path: Path | None = None, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection for code outside Dagster (summary, benchmarks, tests), with the
    settings' memory limit and spill directory."""
    target = Path(path or settings.warehouse_path())
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(target), read_only=read_only, config=settings.duckdb_config())
    try:
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found and found[0])


def upsert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    create_table: str,
    rows: pl.DataFrame,
    *,
    on_conflict: Literal["replace", "ignore"] = "replace",
) -> None:
    """Write `rows` into `table` ("schema.name") by column name, creating the schema and the
    table (`create_table`, with its primary key) when missing. A row whose key is already there
    replaces it, or with on_conflict="ignore" leaves the stored one alone: re-running a step
    never duplicates rows."""
    schema, name = table.split(".")
    con.execute(f"create schema if not exists {schema}")
    con.execute(create_table)
    incoming = f"incoming_{name}"
    con.register(incoming, rows.to_arrow())
    try:
        con.execute(f"insert or {on_conflict} into {table} by name select * from {incoming}")
    finally:
        con.unregister(incoming)
