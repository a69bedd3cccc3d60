"""Business impact of the product's decisions in the closed loop, against the policies to beat.

For every live send the world records the probability of an open and of a click under the
decision taken and under each counterfactual policy (legacy habits, a random hour, the
population's best hour, each client's most frequent engagement hour, the oracle's hour; uniform
random, ε-greedy and oracle variants). The expected rates compare policies on the very same
sends, free of sampling noise; the realised rates are what landed in the warehouse for the
product's sends. Churn: the expected saves of the retention actions on the watch list against a
random list of the same size.

This module, with the rest of `evaluation`, is the only reader of `truth`.
"""

from __future__ import annotations

import duckdb
import polars as pl

from roi_assets.resources.warehouse import table_exists

PRODUCT = "product"
OPEN_BASELINES = (
    "legacy",
    "random_hour",
    "population_best_hour",
    "engagement_hour",
    "oracle_hour",
)
CONTENT_BASELINES = ("uniform_random_content", "epsilon_greedy_content", "oracle_content")
IMPACT_COLUMNS = (
    "impact_date",
    "policy",
    "metric",
    "value",
    "units",
)  # units: sends, or clients acted on


def daily_impact(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per live day, policy and metric (IMPACT_COLUMNS); empty before the first live day."""
    frames = [_expected_rates(con), _realised_rates(con), _churn_saves(con)]
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame(schema=_SCHEMA)
    return pl.concat(frames, how="vertical").sort("impact_date", "policy", "metric")


def uplift_table(impact: pl.DataFrame) -> pl.DataFrame:
    """Over the whole live period, the product's rate next to each policy it is judged against,
    and its uplift: open rate against the hour policies (and legacy), click rate against those and
    the content policies, churn saves of the watch list against a random list."""
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
    product = rates.filter(pl.col("policy").is_in([PRODUCT, "watch_list"])).select(
        "metric", pl.col("value").alias("product")
    )
    compared = (
        (pl.col("metric") == "open_rate") & pl.col("policy").is_in(OPEN_BASELINES)
        | (pl.col("metric") == "click_rate")
        & pl.col("policy").is_in(OPEN_BASELINES + CONTENT_BASELINES)
        | (pl.col("metric") == "churn_saves") & (pl.col("policy") == "random_list")
    )
    return (
        rates.filter(compared)
        .join(product, on="metric")
        .with_columns(uplift=pl.col("product") / pl.col("value") - 1.0)
        .rename({"value": "baseline", "policy": "against"})
        .select("metric", "against", "product", "baseline", "uplift")
        .sort("metric", "against")
    )


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
