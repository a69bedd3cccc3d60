"""`monitoring.model_evaluations`: every evaluation of every model version, one row per metric.

Columns: model_name, model_version, metric, value, oracle_value, baseline_value, evaluated_at
(UTC) and evaluation_window (the ISO 8601 interval of the evaluated rows, see
`evaluation.windows`). The key is (model_name, model_version, metric, evaluation_window):
re-evaluating a version on the same window replaces its rows (a re-run is harmless), evaluating it
on a new window adds rows, so the table is also the history of how a version aged.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from roi_assets.evaluation.oracle_comparison import EVALUATION_COLUMNS
from roi_assets.resources.table_contracts import create_statement
from roi_assets.resources.warehouse import upsert_rows

TABLE = "monitoring.model_evaluations"
KEY_COLUMNS: tuple[str, ...] = ("model_name", "model_version", "metric", "evaluation_window")

_SCHEMA: dict[str, pl.DataType] = {
    "model_name": pl.String(),
    "model_version": pl.String(),
    "metric": pl.String(),
    "value": pl.Float64(),
    "oracle_value": pl.Float64(),
    "baseline_value": pl.Float64(),
    "evaluated_at": pl.Datetime("us"),
    "evaluation_window": pl.String(),
}
_CREATE_TABLE = create_statement(TABLE)


def evaluation_rows(
    metrics: list[tuple[str, float | None, float | None, float | None]],
    *,
    model_name: str,
    model_version: str | int,
    evaluated_at: dt.datetime,
    evaluation_window: str,
) -> pl.DataFrame:
    """(metric, value, oracle_value, baseline_value) tuples as rows of this table."""
    return pl.DataFrame(
        metrics,
        schema={
            "metric": pl.String,
            "value": pl.Float64,
            "oracle_value": pl.Float64,
            "baseline_value": pl.Float64,
        },
        orient="row",
    ).select(
        pl.lit(model_name).alias("model_name"),
        pl.lit(str(model_version)).alias("model_version"),
        pl.all(),
        pl.lit(evaluated_at, dtype=pl.Datetime("us")).alias("evaluated_at"),
        pl.lit(evaluation_window).alias("evaluation_window"),
    )


def write_model_evaluations(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> int:
    """Upsert evaluation rows (e.g. `OracleComparison.metrics`); returns how many were written.

    Creates the schema and table when missing. NaN values are stored as NULL.
    """
    missing = [column for column in EVALUATION_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"evaluation rows lack column(s) {missing}")
    rows = frame.select([pl.col(name).cast(dtype) for name, dtype in _SCHEMA.items()]).with_columns(
        pl.col("value", "oracle_value", "baseline_value").fill_nan(None)
    )
    if rows.select(KEY_COLUMNS).is_duplicated().any():
        raise ValueError(f"evaluation rows repeat a key {KEY_COLUMNS}")
    upsert_rows(con, TABLE, _CREATE_TABLE, rows)
    return rows.height
