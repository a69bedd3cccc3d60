"""What the engagement scores are computed on: each active client as of the scoring moment.

`features.feat_email_scoring` (dbt) holds, per active client, the features an email sent at 10:00
local time on the day after the data's end would have: the client's history rolled forward to that
moment (days since the last open or click grow with the clock, recent rates move as sends and opens
age out of their windows), that day's weekday and holiday, the platform behaviour up to the day
before, the current campaign's typical content and the client's latest variants. Its expressions
are those of the training rows (`dbt_project/macros/email_send_features.sql`), so a score reads
the features the model learnt from, as they stand now, rather than the last send's, which can be
weeks old. This module reads and orders those rows.
"""

from __future__ import annotations

import duckdb
import polars as pl

SCORING_TABLE = "features.feat_email_scoring"


def scoring_rows(scoring: pl.DataFrame, client_ids: pl.Series) -> pl.DataFrame:
    """The scoring rows of these clients (one each; clients without a row are left out), sorted
    by client."""
    return scoring.filter(pl.col("client_id").is_in(client_ids.implode())).sort("client_id")


def read_scoring_rows(
    con: duckdb.DuckDBPyConnection, client_ids: pl.Series | None = None
) -> pl.DataFrame:
    """The scoring table from the warehouse, every active client's row or these clients' only."""
    scoring = con.sql(f"select * from {SCORING_TABLE}").pl()
    return scoring.sort("client_id") if client_ids is None else scoring_rows(scoring, client_ids)
