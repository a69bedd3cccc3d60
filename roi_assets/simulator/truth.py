"""The `truth` schema: what the world was drawn from. Only the simulator writes it; only the
evaluation module (and the simulated environments) read it."""

from __future__ import annotations

from dataclasses import dataclass, fields

import duckdb
import pandas as pd

TRUTH_SCHEMA = "truth"


@dataclass
class Truth:
    email_send_probabilities: pd.DataFrame  # send_id, client_id, sent_at, p_open, p_click
    churn_probabilities: pd.DataFrame  # client_id, snapshot_date, window_days, p_churn
    best_send_hours: pd.DataFrame  # client_id, best hour of week local/utc, p_open at best/mean
    send_hour_probabilities: pd.DataFrame  # client_id, hour_of_week_local, p_open, p_click
    content_ctr: pd.DataFrame  # segment, family, variant, true_ctr
    client_traits: pd.DataFrame  # latent traits per client
    document_labels: pd.DataFrame | None = None  # filled by the document simulator

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }


def write_truth(con: duckdb.DuckDBPyConnection, truth: Truth) -> dict[str, int]:
    """Replace every truth table; returns row counts."""
    con.execute(f"create schema if not exists {TRUTH_SCHEMA}")
    counts = {}
    for name, frame in truth.tables().items():
        con.register("truth_frame", frame)
        con.execute(f"create or replace table {TRUTH_SCHEMA}.{name} as select * from truth_frame")
        con.unregister("truth_frame")
        counts[name] = len(frame)
    return counts


def replace_truth_table(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> int:
    """Replace one truth table with `frame`."""
    con.execute(f"create schema if not exists {TRUTH_SCHEMA}")
    con.register("truth_frame", frame)
    con.execute(f"create or replace table {TRUTH_SCHEMA}.{name} as select * from truth_frame")
    con.unregister("truth_frame")
    return len(frame)


def append_truth_rows(
    con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, day_column: str
) -> int:
    """Add a day's rows to a truth table, replacing any rows of the same day(s) first, so a day
    drawn again (after a crash) is recorded once."""
    if frame.empty:
        return 0
    con.execute(f"create schema if not exists {TRUTH_SCHEMA}")
    con.register("truth_frame", frame)
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [TRUTH_SCHEMA, name],
    ).fetchone()[0]
    if exists:
        con.execute(
            f"""delete from {TRUTH_SCHEMA}.{name}
                where {day_column} in (select distinct {day_column} from truth_frame)"""
        )
        con.execute(f"insert into {TRUTH_SCHEMA}.{name} by name select * from truth_frame")
    else:
        con.execute(f"create table {TRUTH_SCHEMA}.{name} as select * from truth_frame")
    con.unregister("truth_frame")
    return len(frame)
