"""Reads the simulator's `truth` schema for evaluation: the oracle's probabilities.

Models never call this; evaluation assets join these probabilities to the rows they evaluate so
every report shows what was achievable next to what the model achieved.
"""

from __future__ import annotations

import duckdb
import polars as pl

TRUTH_SCHEMA = "truth"


def email_send_probabilities(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """send_id, p_open, p_click: the true probabilities every send was drawn from."""
    return con.execute(
        f"select send_id, p_open, p_click from {TRUTH_SCHEMA}.email_send_probabilities"
    ).pl()


def churn_probabilities(con: duckdb.DuckDBPyConnection, window_days: int) -> pl.DataFrame:
    """client_id, snapshot_date, p_churn for one prediction window."""
    return con.execute(
        f"select client_id, snapshot_date, p_churn from {TRUTH_SCHEMA}.churn_probabilities "
        "where window_days = ?",
        [window_days],
    ).pl()
