"""The A/B test's logged outcomes: monitoring.ab_outcomes, one row per client reached per day.

Columns: experiment_key (`split.experiment_salt`), day, client_id, arm, model_version, engaged.
The platform logs which arm reached a client and whether the client engaged; the A/B decision
reads only (arm, engaged), so any producer will do. The embedded default has no platform, so
`draw_targeted_outcomes` plays one day of it from known probabilities (see
`deployment.simulated_outcomes` for where they come from).

The z-test behind the decision assumes independent outcomes, and the same client emailed on
several days is not independent: a lucky draw of clients in the small arm would count seven
times. So each client counts once per experiment (its first logged outcome), and the played
platform emails each client once a week, on a day fixed by its id, so a week of the test reaches
every client once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

import duckdb
import numpy as np
import polars as pl

from roi_assets.deployment.split import arm_for, bucket
from roi_assets.resources.warehouse import table_exists

OUTCOMES_TABLE = "monitoring.ab_outcomes"
_CREATE = f"""create table if not exists {OUTCOMES_TABLE} (
    experiment_key varchar not null,
    day date not null,
    client_id varchar not null,
    arm varchar not null,
    model_version varchar not null,
    engaged boolean not null,
    primary key (experiment_key, day, client_id)
)"""
# Each arm emails the top-scored fraction of its clients: a better model picks clients more likely
# to engage, which is what the engagement rate of the A/B test measures.
DEFAULT_TARGETING_SHARE = 0.5
CAMPAIGN_CADENCE_DAYS = 7
_CAMPAIGN_SALT = "weekly-campaign"


def due_on(client_id: str, day: dt.date, cadence_days: int = CAMPAIGN_CADENCE_DAYS) -> bool:
    """Whether the client's campaign day (one in every `cadence_days`, fixed by its id) is `day`."""
    return int(bucket(client_id, _CAMPAIGN_SALT) * cadence_days) == day.toordinal() % cadence_days


def day_seed(experiment_key: str, day: dt.date, seed: int) -> int:
    """A seed per experiment and day, stable across processes (unlike Python's `hash`)."""
    digest = hashlib.sha256(f"{seed}:{experiment_key}:{day.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def draw_targeted_outcomes(
    population: pl.DataFrame,
    scores: Mapping[str, np.ndarray],
    versions: Mapping[str, str],
    challenger_share: float,
    experiment_key: str,
    day: dt.date,
    *,
    targeting_share: float = DEFAULT_TARGETING_SHARE,
    seed: int = 0,
) -> pl.DataFrame:
    """One day of the experiment: the clients of `population` (client_id, true_probability) due
    for their weekly campaign that day are split into arms with the experiment's salt, each arm's
    model (`scores[arm]`, aligned with the population) targets its top `targeting_share` of them,
    and each targeted client engages with its true probability. Returns experiment_key, day,
    client_id, arm, model_version, engaged."""
    arms = np.array(
        [
            arm_for(c, challenger_share, experiment_key) if due_on(c, day) else None
            for c in population["client_id"]
        ]
    )
    rng = np.random.default_rng(day_seed(experiment_key, day, seed))
    engaged_by_client = rng.random(population.height) < population["true_probability"].to_numpy()
    frames = []
    for arm, arm_scores in scores.items():
        members = np.flatnonzero(arms == arm)
        reached = round(len(members) * targeting_share)
        # stable sort: ties are broken by population order, so a day is reproducible
        chosen = members[np.argsort(-arm_scores[members], kind="stable")[:reached]]
        frames.append(
            pl.DataFrame(
                {
                    "client_id": population["client_id"].gather(chosen).cast(pl.String),
                    "engaged": engaged_by_client[chosen],
                }
            ).with_columns(arm=pl.lit(arm), model_version=pl.lit(str(versions[arm])))
        )
    return pl.concat(frames).select(
        pl.lit(experiment_key).alias("experiment_key"),
        pl.lit(day).alias("day"),
        "client_id",
        "arm",
        "model_version",
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


def logged_days(con: duckdb.DuckDBPyConnection, experiment_key: str) -> set[dt.date]:
    if not table_exists(con, "monitoring", "ab_outcomes"):
        return set()
    rows = con.execute(
        f"select distinct day from {OUTCOMES_TABLE} where experiment_key = ?", [experiment_key]
    ).fetchall()
    return {row[0] for row in rows}


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
