"""The A/B test's outcomes as they land: monitoring.ab_outcomes, one row per client reached per
day.

Columns: experiment_key (`split.experiment_salt`), day, client_id, arm, model_version, engaged.
A client's arm is the product's own deterministic split (`split.arm_for`), the one the marts
published the arm's decisions with; whether it engaged is what the email service provider's
events said (intermediate.int_email_outcomes, built from the landing zone). Nothing here knows
the world's probabilities.

The z-test behind the decision assumes independent outcomes, and the same client emailed on
several days is not independent: a lucky client in the small arm would count several times. So
each client counts once per experiment, its first send of the test.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from roi_assets.deployment.split import arm_for
from roi_assets.resources.table_contracts import create_statement
from roi_assets.resources.warehouse import table_exists

OUTCOMES_TABLE = "monitoring.ab_outcomes"
_CREATE = create_statement(OUTCOMES_TABLE)
SENDS = "intermediate.int_email_outcomes"
# An open or click counts when it lands within this many hours of the send; a send is judged
# once that window has passed before the day the verdict is taken (most opens land within a day;
# waiting for the 7-day label would leave a 7-day test nothing to decide on).
MATURITY_HOURS = 48


def landed_outcomes(
    con: duckdb.DuckDBPyConnection,
    experiment_key: str,
    model_version: str,
    challenger_share: float,
    first_day: dt.date,
    as_of: dt.date,
    engagement: str,
) -> pl.DataFrame:
    """The outcomes of the sends from `first_day` whose maturity window ended before `as_of`:
    one row per client and day (its first send that day), its client's arm under the
    experiment's split, and whether the client's `engagement` (`opened_at` or `clicked_at`)
    landed within `MATURITY_HOURS`."""
    if engagement not in ("opened_at", "clicked_at"):
        raise ValueError(f"engagement must be opened_at or clicked_at, got {engagement!r}")
    if not table_exists(con, *SENDS.split(".")):
        return pl.DataFrame()
    matured_before = dt.datetime.combine(as_of, dt.time()) - dt.timedelta(hours=MATURITY_HOURS)
    # a client emailed twice in a day counts once that day (the table's key), by its first send
    sends = con.execute(
        f"select client_id, cast(sent_at as date) as day, coalesce({engagement} < sent_at "
        f"+ interval {MATURITY_HOURS} hour, false) as engaged from {SENDS} "
        "where sent_at >= ? and sent_at < ? "
        "qualify row_number() over (partition by client_id, day order by sent_at) = 1 "
        "order by day, client_id",
        [dt.datetime.combine(first_day, dt.time()), matured_before],
    ).pl()
    arms = [arm_for(client, challenger_share, experiment_key) for client in sends["client_id"]]
    return sends.select(
        pl.lit(experiment_key).alias("experiment_key"),
        "day",
        "client_id",
        pl.Series("arm", arms, dtype=pl.String),
        pl.lit(model_version).alias("model_version"),
        "engaged",
    )


def write_outcomes(con: duckdb.DuckDBPyConnection, outcomes: pl.DataFrame) -> int:
    """Store outcomes, replacing any already logged for the same experiment and day."""
    con.execute("create schema if not exists monitoring")
    con.execute(_CREATE)
    if outcomes.is_empty():
        return 0
    con.register("incoming_ab_outcomes", outcomes.to_arrow())
    try:
        con.execute(
            f"delete from {OUTCOMES_TABLE} using (select distinct experiment_key, day "
            "from incoming_ab_outcomes) as incoming "
            f"where {OUTCOMES_TABLE}.experiment_key = incoming.experiment_key "
            f"and {OUTCOMES_TABLE}.day = incoming.day"
        )
        con.execute(f"insert into {OUTCOMES_TABLE} by name select * from incoming_ab_outcomes")
    finally:
        con.unregister("incoming_ab_outcomes")
    return outcomes.height


def read_outcomes(
    con: duckdb.DuckDBPyConnection, experiment_key: str, before: dt.date
) -> pl.DataFrame:
    """arm, engaged of the experiment's outcomes logged on days before `before`: each client's
    first one only, so that the outcomes are independent."""
    if not table_exists(con, "monitoring", "ab_outcomes"):
        return pl.DataFrame(schema={"arm": pl.String, "engaged": pl.Boolean})
    return con.execute(
        f"select arm, engaged from {OUTCOMES_TABLE} where experiment_key = ? and day < ? "
        "qualify row_number() over (partition by client_id order by day) = 1",
        [experiment_key, before],
    ).pl()
