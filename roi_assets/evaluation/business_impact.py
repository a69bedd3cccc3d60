"""Business impact of the product's decisions in the closed loop, against the policies to beat.

For every live send the world records the probability of an open and of a click under the
decision taken and under each counterfactual policy (legacy habits, a random hour, the
population's best hour, each client's most frequent engagement hour, the oracle's hour; uniform
random, ε-greedy and oracle variants). The expected rates compare policies on the very same
sends, free of sampling noise; the realised rates are what landed in the warehouse for the
product's sends. Churn: the expected saves of the retention actions on the watch list against a
random list of the same size, also per 100 clients contacted; and each churn tier's client count
in `marts.churn_risk` next to the truth's count for that tier (the clients whose true risk is
that high), recorded per snapshot in `monitoring.churn_tier_counts` by `record_tier_counts`
because the mart keeps only its latest scores.

`uplift_table` puts the customer's business targets (engagement +25 % and clicks +30 % against
the legacy policy, CTR +35 % against the random variants the agency sent) next to the product's
uplift and what the oracle's policies achieve against the same baseline on the same sends.

This module, with the rest of `evaluation`, is the only reader of `truth`.
"""

from __future__ import annotations

import duckdb
import polars as pl

from roi_assets.churn.tiers import RISK_TIERS, risk_tier
from roi_assets.resources.table_contracts import create_statement
from roi_assets.resources.warehouse import table_exists, upsert_rows

PRODUCT = "product"
OPEN_BASELINES = (
    "legacy",
    "random_hour",
    "population_best_hour",
    "engagement_hour",
    "oracle_hour",
)
CONTENT_BASELINES = ("uniform_random_content", "epsilon_greedy_content", "oracle_content")
# The specification's business targets: (metric, baseline) -> the uplift asked for.
BUSINESS_TARGETS: dict[tuple[str, str], float] = {
    ("open_rate", "legacy"): 0.25,  # engagement +25 %
    ("click_rate", "legacy"): 0.30,  # clicks +30 %
    ("click_rate", "uniform_random_content"): 0.35,  # CTR +35 %
}
# What the oracle achieves on the same sends: the world records its best hour (with the variants
# taken) and its best variants (at the hour taken) apart, so the better of the two is shown.
ORACLE_POLICIES: dict[str, tuple[str, ...]] = {
    "open_rate": ("oracle_hour", "oracle_content"),
    "click_rate": ("oracle_hour", "oracle_content"),
}
SAVES_PER_100 = "saves_per_100_contacted"
TIER_COUNTS_TABLE = "monitoring.churn_tier_counts"
TRUTH = "truth"
MART = "churn_risk"
IMPACT_COLUMNS = (
    "impact_date",
    "policy",
    "metric",
    "value",
    "units",
)  # units: sends, or clients acted on


def daily_impact(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per live day, policy and metric (IMPACT_COLUMNS); empty before the first live day."""
    frames = [_expected_rates(con), _realised_rates(con), _churn_saves(con), _tier_counts(con)]
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame(schema=_SCHEMA)
    return pl.concat(frames, how="vertical").sort("impact_date", "policy", "metric")


def live_days(impact: pl.DataFrame) -> int:
    """How many live days the impact covers: the days whose sends were judged. The churn tiers'
    rows carry their snapshot's date, which can precede the first live day."""
    return impact.filter(pl.col("metric") == "open_rate")["impact_date"].n_unique()


def uplift_table(impact: pl.DataFrame) -> pl.DataFrame:
    """Over the whole live period, the product's rate next to each policy it is judged against,
    and its uplift: open rate against the hour policies (and legacy), click rate against those and
    the content policies, churn saves of the watch list against a random list (in all and per 100
    clients contacted). `target` is the customer's uplift where one is set and `oracle_uplift` the
    oracle's against the same baseline. Churn tiers: the latest snapshot's client count per tier
    and window (`product`) against the truth's count (`baseline`)."""
    rates = (
        impact.filter(pl.col("metric").is_in(["open_rate", "click_rate", "churn_saves"]))
        .group_by("policy", "metric")
        .agg(
            pl.when(pl.col("metric").first() == "churn_saves")
            .then(pl.col("value").sum())
            .otherwise((pl.col("value") * pl.col("units")).sum() / pl.col("units").sum())
            .alias("value")
        )
    )
    saves = (
        impact.filter(pl.col("metric") == "churn_saves")
        .group_by("policy")
        .agg((100 * pl.col("value").sum() / pl.col("units").sum()).alias("value"))
        .with_columns(pl.lit(SAVES_PER_100).alias("metric"))
        .select(rates.columns)
    )
    rates = pl.concat([rates, saves])
    product = rates.filter(pl.col("policy").is_in([PRODUCT, "watch_list"])).select(
        "metric", pl.col("value").alias("product")
    )
    oracle_policies = pl.DataFrame(
        [(metric, policy) for metric, names in ORACLE_POLICIES.items() for policy in names],
        schema={"metric": pl.String, "policy": pl.String},
        orient="row",
    )
    oracle = (
        rates.join(oracle_policies, on=["metric", "policy"])
        .group_by("metric")
        .agg(pl.col("value").max().alias("oracle"))
    )
    compared = (
        (pl.col("metric") == "open_rate") & pl.col("policy").is_in(OPEN_BASELINES)
        | (pl.col("metric") == "click_rate")
        & pl.col("policy").is_in(OPEN_BASELINES + CONTENT_BASELINES)
        | pl.col("metric").is_in(["churn_saves", SAVES_PER_100])
        & (pl.col("policy") == "random_list")
    )
    targets = pl.DataFrame(
        [(metric, against, target) for (metric, against), target in BUSINESS_TARGETS.items()],
        schema={"metric": pl.String, "against": pl.String, "target": pl.Float64},
        orient="row",
    )
    uplift = (
        rates.filter(compared)
        .join(product, on="metric")
        .join(oracle, on="metric", how="left")
        .with_columns(
            uplift=pl.col("product") / pl.col("value") - 1.0,
            oracle_uplift=pl.col("oracle") / pl.col("value") - 1.0,
        )
        .rename({"value": "baseline", "policy": "against"})
        .join(targets, on=["metric", "against"], how="left")
    )
    return pl.concat([uplift.select(UPLIFT_COLUMNS), _tier_uplift(impact)]).sort(
        "metric", "against"
    )


UPLIFT_COLUMNS = ("metric", "against", "product", "baseline", "uplift", "target", "oracle_uplift")


def _tier_uplift(impact: pl.DataFrame) -> pl.DataFrame:
    """The latest snapshot's tier counts, the mart's against the truth's."""
    tiers = impact.filter(pl.col("policy").is_in([MART, TRUTH]))
    if tiers.height == 0:
        return pl.DataFrame(schema={name: _UPLIFT_SCHEMA[name] for name in UPLIFT_COLUMNS})
    latest = tiers.filter(pl.col("impact_date") == pl.col("impact_date").max())
    wide = latest.pivot(on="policy", index="metric", values="value")
    return wide.select(
        "metric",
        pl.lit(TRUTH).alias("against"),
        pl.col(MART).alias("product"),
        pl.col(TRUTH).alias("baseline"),
        (pl.col(MART) / pl.col(TRUTH) - 1.0).alias("uplift"),
        pl.lit(None, dtype=pl.Float64).alias("target"),
        pl.lit(None, dtype=pl.Float64).alias("oracle_uplift"),
    ).cast(_UPLIFT_SCHEMA)


_UPLIFT_SCHEMA = {
    "metric": pl.String,
    "against": pl.String,
    "product": pl.Float64,
    "baseline": pl.Float64,
    "uplift": pl.Float64,
    "target": pl.Float64,
    "oracle_uplift": pl.Float64,
}


_SCHEMA = {
    "impact_date": pl.Date,
    "policy": pl.String,
    "metric": pl.String,
    "value": pl.Float64,
    "units": pl.Int64,
}


def _expected_rates(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    if not table_exists(con, "truth", "send_policy_probabilities"):
        return pl.DataFrame(schema=_SCHEMA)
    return (
        con.execute(
            """
        select decision_date as impact_date, policy, metric, value, units from (
            select decision_date, policy, count(*) as units,
                   avg(p_open) as open_rate, avg(p_click) as click_rate
            from truth.send_policy_probabilities group by all
        ) unpivot (value for metric in (open_rate, click_rate))
        """
        )
        .pl()
        .cast(_SCHEMA)
    )


def _realised_rates(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Opens and clicks that landed for the product's sends of each live day (a day's rate keeps
    rising for a few days while late opens arrive)."""
    if not (
        table_exists(con, "truth", "send_policy_probabilities")
        and table_exists(con, "raw", "email_events")
    ):
        return pl.DataFrame(schema=_SCHEMA)
    return (
        con.execute(
            """
        with sends as (
            select send_id, decision_date from truth.send_policy_probabilities
            where policy = 'product'
        ),
        landed as (
            select send_id,
                   bool_or(event_type = 'open') as opened,
                   bool_or(event_type = 'click') as clicked
            from raw.email_events where send_id in (select send_id from sends) group by send_id
        )
        select decision_date as impact_date, 'product' as policy, metric, value, units from (
            select s.decision_date, count(*) as units,
                   avg(coalesce(l.opened, false)::double) as open_rate_realised,
                   avg(coalesce(l.clicked, false)::double) as click_rate_realised
            from sends s left join landed l using (send_id) group by all
        ) unpivot (value for metric in (open_rate_realised, click_rate_realised))
        """
        )
        .pl()
        .cast(_SCHEMA)
    )


def _churn_saves(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Expected churners saved within 30 days by the actions on the watch list, and by the same
    number of actions on randomly chosen active clients."""
    if not table_exists(con, "truth", "retention_actions"):
        return pl.DataFrame(schema=_SCHEMA)
    return (
        con.execute(
            """
        select action_date as impact_date, 'watch_list' as policy, 'churn_saves' as metric,
               sum(p_churn_30_without - p_churn_30_with) as value, count(*) as units
        from truth.retention_actions group by all
        union all
        select action_date, 'random_list', 'churn_saves', expected_saves, list_size
        from truth.retention_random_list
        """
        )
        .pl()
        .cast(_SCHEMA)
    )


def tier_counts(scored: pl.DataFrame) -> pl.DataFrame:
    """Per snapshot, window and tier (every tier, empty ones too): how many of the scored clients
    the mart puts in the tier (`probability`) and how many the truth does (`p_churn`)."""
    counted = scored.with_columns(
        pl.Series("tier", risk_tier(scored["probability"].to_numpy()).tolist(), dtype=pl.String),
        pl.Series("true_tier", risk_tier(scored["p_churn"].to_numpy()).tolist(), dtype=pl.String),
    )
    grid = (
        counted.select("snapshot_date", "window_days")
        .unique()
        .join(pl.DataFrame({"tier": list(RISK_TIERS)}), how="cross")
    )
    keys = ["snapshot_date", "window_days", "tier"]
    predicted = counted.group_by(keys).agg(pl.len().alias("clients"))
    true = (
        counted.rename({"tier": "scored_tier", "true_tier": "tier"})
        .group_by(keys)
        .agg(pl.len().alias("true_clients"))
    )
    return (
        grid.join(predicted, on=keys, how="left")
        .join(true, on=keys, how="left")
        .with_columns(pl.col("clients", "true_clients").fill_null(0).cast(pl.Int64))
        .with_columns(pl.col("window_days").cast(pl.Int32))
        .sort(keys)
    )


def record_tier_counts(con: duckdb.DuckDBPyConnection) -> int:
    """Upsert the current churn mart's tier counts, with the truth's, into
    monitoring.churn_tier_counts (one set per snapshot: a re-scored snapshot replaces its row);
    returns the rows written, none before the mart or the truth exist."""
    if not (table_exists(con, "marts", MART) and table_exists(con, "truth", "churn_probabilities")):
        return 0
    scored = con.execute(
        f"""
        select m.snapshot_date, m.window_days, m.probability, t.p_churn
        from marts.{MART} m
        join truth.churn_probabilities t using (client_id, snapshot_date, window_days)
        """
    ).pl()
    if scored.height == 0:
        return 0
    rows = tier_counts(scored)
    upsert_rows(con, TIER_COUNTS_TABLE, create_statement(TIER_COUNTS_TABLE), rows)
    return rows.height


def _tier_counts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Impact rows of the recorded tier counts: metric `clients_<tier>_<window>d`, policy
    `churn_risk` (the mart) and `truth`, units the clients scored in that window."""
    schema, table = TIER_COUNTS_TABLE.split(".")
    if not table_exists(con, schema, table):
        return pl.DataFrame(schema=_SCHEMA)
    return (
        con.execute(
            f"""
        with counts as (
            select *, 'clients_' || tier || '_' || window_days || 'd' as metric,
                   sum(clients) over (partition by snapshot_date, window_days) as scored
            from {TIER_COUNTS_TABLE}
        )
        select snapshot_date as impact_date, '{MART}' as policy, metric, clients as value,
               scored as units
        from counts
        union all
        select snapshot_date, '{TRUTH}', metric, true_clients, scored from counts
        """
        )
        .pl()
        .cast(_SCHEMA)
    )
