"""Deployment assets: A/B outcomes, the A/B verdicts and the rollout state, one day at a time.

The day is the `as_of` config value (the run's UTC date by default), so a backfill or a test can
move the clock; the `rollout_daily` schedule sets it to its own tick.
"""

import datetime as dt

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from roi_assets.deployment.daily_step import ab_test_verdict, advance_deployment
from roi_assets.deployment.outcomes import logged_days, write_outcomes
from roi_assets.deployment.rollout import AB_TEST, RolloutState
from roi_assets.deployment.rollout_plot import challenger_share_plot_png
from roi_assets.deployment.simulated_outcomes import (
    TRUE_PROBABILITY,
    simulated_engagement_outcomes,
)
from roi_assets.deployment.split import experiment_salt
from roi_assets.deployment.state_store import (
    TRANSITIONS_TABLE,
    ensure_tables,
    read_decision,
    read_states,
)
from roi_assets.evaluation.reliability import png_markdown
from roi_assets.resources.warehouse import WAREHOUSE_POOL

# The models whose experiments the product can run: those with an A/B outcome source.
DEPLOYABLE_MODELS = tuple(TRUE_PROBABILITY)
GROUP = "deployment"


class DeploymentClock(dg.Config):
    """`as_of`: the deployment day as an ISO date; empty means today (UTC)."""

    as_of: str = ""

    def today(self) -> dt.date:
        return dt.date.fromisoformat(self.as_of) if self.as_of else dt.datetime.now(dt.UTC).date()


def _ab_tests(states: dict[str, RolloutState]) -> list[RolloutState]:
    return [s for s in states.values() if s.stage == AB_TEST and s.model_name in DEPLOYABLE_MODELS]


def _markdown(frame: pl.DataFrame) -> str:
    return frame.to_pandas().to_markdown(index=False) if frame.height else "none"


@dg.asset(
    key=["monitoring", "ab_outcomes"],
    group_name=GROUP,
    kinds={"duckdb", "mlflow"},
    deps=[dg.AssetKey(["features", "feat_email_engagement"])],
    pool=WAREHOUSE_POOL,
)
def ab_outcomes(
    context: dg.AssetExecutionContext, config: DeploymentClock, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """monitoring.ab_outcomes: per client reached and day of each running A/B test, its arm,
    the version that chose it and whether it engaged. In the embedded default the simulator plays
    the days not logged yet: each arm emails its top-scored clients, who open with their true
    probability."""
    as_of = config.today()
    summaries = []
    with duckdb.get_connection() as con:
        for state in _ab_tests(read_states(con)):
            key = experiment_salt(state.model_name, state.challenger_version)
            start = state.started_at.date()
            due = {start + dt.timedelta(days=d) for d in range((as_of - start).days)}
            outcomes = simulated_engagement_outcomes(con, state, due - logged_days(con, key))
            written = write_outcomes(con, outcomes)
            context.log.info("%s: logged %d outcomes", key, written)
            if written:
                summaries.append(
                    outcomes.group_by("arm")
                    .agg(
                        pl.len().alias("reached"),
                        pl.col("engaged").mean().round(4).alias("engagement_rate"),
                        pl.col("day").n_unique().alias("days"),
                    )
                    .with_columns(pl.lit(key).alias("experiment"))
                )
    summary = pl.concat(summaries) if summaries else pl.DataFrame()
    return dg.MaterializeResult(
        metadata={
            "as_of": as_of.isoformat(),
            "dagster/row_count": int(summary["reached"].sum()) if summaries else 0,
            "logged": dg.MetadataValue.md(_markdown(summary)),
        }
    )


@dg.asset(
    key=["monitoring", "ab_test_decisions"],
    group_name=GROUP,
    kinds={"duckdb", "python"},
    deps=[ab_outcomes],
    pool=WAREHOUSE_POOL,
)
def ab_test_decisions(config: DeploymentClock, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """monitoring.ab_test_decisions: each running A/B test's verdict of the day (promote, hold
    or reject) from a one-sided two-proportion z-test on engagement rate and the minimum +5 %
    relative lift, with the counts, rates, lift and p-value it rests on."""
    as_of = config.today()
    rows = []
    with duckdb.get_connection() as con:
        ensure_tables(con)
        for state in _ab_tests(read_states(con)):
            result = ab_test_verdict(con, state, as_of)
            rows.append(
                {
                    "model": state.model_name,
                    "challenger": state.challenger_version,
                    "champion": state.champion_version,
                    "decision": result.decision,
                    "reason": result.reason,
                }
            )
    return dg.MaterializeResult(
        metadata={
            "as_of": as_of.isoformat(),
            "dagster/row_count": len(rows),
            "decisions": dg.MetadataValue.md(_markdown(pl.DataFrame(rows))),
        }
    )


@dg.asset(
    key=["monitoring", "rollout_state"],
    group_name=GROUP,
    kinds={"duckdb", "mlflow"},
    deps=[ab_test_decisions],
    pool=WAREHOUSE_POOL,
)
def rollout_state(
    context: dg.AssetExecutionContext, config: DeploymentClock, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """monitoring.rollout_state (one row per model: versions, stage, challenger share; the
    serving API routes by it) and monitoring.deployment_transitions (every change with its
    reason). Starts an A/B test for a challenger distinct from the champion, applies the day's
    verdict, steps the rollout 20 % → 50 % → 80 % → 100 % on the specification's schedule, makes
    the challenger champion at day 28, and rolls back on a critical alert."""
    as_of = config.today()
    with duckdb.get_connection() as con:
        ensure_tables(con)
        days = []
        for model_name in DEPLOYABLE_MODELS:
            state = read_states(con).get(model_name)
            decision = None
            if state is not None and state.stage == AB_TEST:
                key = experiment_salt(model_name, state.challenger_version)
                decision = read_decision(con, key, as_of)
            days.append(advance_deployment(con, model_name, as_of, decision))
        states = con.execute(
            "select model_name, challenger_version, champion_version, stage, challenger_share, "
            "started_at::date as started, updated_at::date as updated "
            "from monitoring.rollout_state order by model_name"
        ).pl()
        history = con.execute(
            f"select model_name, challenger_version, as_of, challenger_share from "
            f"{TRANSITIONS_TABLE} order by as_of"
        ).pl()
    notes = pl.DataFrame(
        {
            "model": [d.model_name for d in days],
            "transition": [", ".join(t.event for t in d.transitions) or "-" for d in days],
            "note": [d.note for d in days],
        }
    )
    for day in days:
        context.log.info("%s: %s", day.model_name, day.note)
    return dg.MaterializeResult(
        metadata={
            "as_of": as_of.isoformat(),
            "dagster/row_count": states.height,
            "transitions_today": sum(len(d.transitions) for d in days),
            "today": dg.MetadataValue.md(_markdown(notes)),
            "rollout_state": dg.MetadataValue.md(_markdown(states)),
            "challenger_share": dg.MetadataValue.md(
                png_markdown(challenger_share_plot_png(history), "challenger share by day")
            ),
        }
    )
