"""Reads the simulator's `truth` schema for evaluation: the oracle's probabilities.

Models never call this; evaluation assets join these probabilities to the rows they evaluate so
every report shows what was achievable next to what the model achieved.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import duckdb
import polars as pl

from roi_assets.resources.warehouse import table_exists
from roi_assets.simulator.emails import ACTION_GIVEN_CLICK

TRUTH_SCHEMA = "truth"


def email_send_probabilities(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """send_id, p_open, p_click, p_action: the true probabilities every send was drawn from (the
    world draws an action after a click with a fixed probability, so p_action follows p_click)."""
    return con.execute(
        f"select send_id, p_open, p_click, p_click * {ACTION_GIVEN_CLICK} as p_action "
        f"from {TRUTH_SCHEMA}.email_send_probabilities"
    ).pl()


def churn_probabilities(con: duckdb.DuckDBPyConnection, window_days: int) -> pl.DataFrame:
    """client_id, snapshot_date, p_churn for one prediction window."""
    return con.execute(
        f"select client_id, snapshot_date, p_churn from {TRUTH_SCHEMA}.churn_probabilities "
        "where window_days = ?",
        [window_days],
    ).pl()


def send_hour_probabilities(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """client_id, hour_of_week_local, p_open, p_click: each client's true open and click
    probability at every local hour of the week (the send-time oracle's table; the simulator
    writes it for a bounded number of clients)."""
    return con.execute(
        "select client_id, hour_of_week_local, p_open, p_click "
        f"from {TRUTH_SCHEMA}.send_hour_probabilities order by client_id, hour_of_week_local"
    ).pl()


def content_ctr(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """segment, family, variant, ctr: the true click-through rate of each content variant per
    client segment (the content bandit's oracle)."""
    return con.execute(
        f"select segment, family, variant, true_ctr as ctr from {TRUTH_SCHEMA}.content_ctr "
        "order by family, segment, variant"
    ).pl()


def document_clean_texts(
    con: duckdb.DuckDBPyConnection, content_hashes: Sequence[str]
) -> dict[str, str]:
    """Content hash → the clean text of simulated documents (the classifier's evaluation on
    perfect OCR); empty when the documents were not simulated."""
    if not table_exists(con, TRUTH_SCHEMA, "document_labels"):
        return {}
    rows = con.execute(
        f"select content_sha256, clean_text from {TRUTH_SCHEMA}.document_labels "
        "where content_sha256 in (select unnest(?))",
        [list(content_hashes)],
    ).fetchall()
    return dict(rows)


def document_true_entities(
    con: duckdb.DuckDBPyConnection, content_hashes: Sequence[str]
) -> dict[str, dict[str, list]]:
    """Content hash → the entities a simulated document states, by type (the yardstick of the
    entity extractor); empty when the documents were not simulated."""
    if not table_exists(con, TRUTH_SCHEMA, "document_labels"):
        return {}
    rows = con.execute(
        f"select content_sha256, entities_json from {TRUTH_SCHEMA}.document_labels "
        "where content_sha256 in (select unnest(?))",
        [list(content_hashes)],
    ).fetchall()
    return {sha: json.loads(entities) for sha, entities in rows}
