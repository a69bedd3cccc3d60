"""The LSTM's daily rows, read from the warehouse for the snapshots at hand.

A churn sequence reads a client's `SEQUENCE_DAYS` days before a snapshot, so training, evaluation
and scoring need only those days of the clients they score, not the whole daily table: at `large`
(100,000 clients × 365 days) `features.feat_client_daily` holds 29 million rows, and loading it
whole into every churn step, then sorting it, took one step past 18 GiB. Each client's rows are
read from `SEQUENCE_DAYS` before its first snapshot to its last, one range per client (weekly
snapshots leave no gaps longer than a sequence, so nothing read goes unused for long).
"""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from roi_assets.catalog import CLIENT_DAILY
from roi_assets.churn.features import DAILY_METRICS, SEQUENCE_DAYS, build_sequences

DAILY_TABLE = ".".join(CLIENT_DAILY.path)
_KEYS_VIEW = "churn_sequence_keys"


def daily_rows_for(con: duckdb.DuckDBPyConnection, keys: pl.DataFrame) -> pl.DataFrame:
    """The daily rows (client_id, activity_date and the LSTM's metrics) the sequences of `keys`
    (client_id, snapshot_date rows) read, ordered by client and day."""
    ranges = keys.group_by("client_id").agg(
        (pl.col("snapshot_date").min() - pl.duration(days=SEQUENCE_DAYS)).alias("first_day"),
        pl.col("snapshot_date").max().alias("last_snapshot"),
    )
    metrics = ", ".join(f"d.{name}" for name in DAILY_METRICS)
    con.register(_KEYS_VIEW, ranges.to_arrow())
    try:
        return con.execute(
            f"""
            select d.client_id, d.activity_date, {metrics}
            from {DAILY_TABLE} as d
            join {_KEYS_VIEW} as k on k.client_id = d.client_id
            where d.activity_date >= k.first_day and d.activity_date < k.last_snapshot
            order by d.client_id, d.activity_date
            """
        ).pl()
    finally:
        con.unregister(_KEYS_VIEW)


def sequences_for(con: duckdb.DuckDBPyConnection, keys: pl.DataFrame) -> np.ndarray:
    """`build_sequences` for `keys`, on the daily rows they need."""
    return build_sequences(daily_rows_for(con, keys), keys)
