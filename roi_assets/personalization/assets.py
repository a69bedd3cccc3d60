"""Content personalizer assets: posteriors updated from feedback, evaluation, assignments."""

import datetime as dt

import dagster as dg
import numpy as np
import polars as pl
from dagster_duckdb import DuckDBResource

from roi_assets.evaluation.model_evaluations import write_model_evaluations
from roi_assets.evaluation.oracle_comparison import utc_naive
from roi_assets.evaluation.reliability import png_markdown
from roi_assets.evaluation.truth_tables import content_ctr
from roi_assets.evaluation.windows import TimeWindow
from roi_assets.personalization.assignments import content_assignments as assign_content
from roi_assets.personalization.evaluation import THOMPSON, UNIFORM_RANDOM
from roi_assets.personalization.report import ALL_FAMILIES, assess_bandit
from roi_assets.personalization.store import (
    load_personalizer,
    logged_feedback,
    stored_version,
    update_posteriors,
)
from roi_assets.resources.warehouse import WAREHOUSE_POOL
from roi_assets.simulator.catalog import CONTENT_VARIANTS, SEGMENTS, VARIANT_COLUMNS

MODEL_NAME = "roi-content-bandit"
FEEDBACK = dg.AssetKey(["features", "feat_email_engagement"])
CLIENTS = dg.AssetKey(["staging", "stg_clients"])
SUBSCRIPTIONS = dg.AssetKey(["staging", "stg_subscriptions"])


def _now() -> dt.datetime:
    return utc_naive(dt.datetime.now(dt.UTC))


@dg.asset(
    key=["personalization", "content_posteriors"],
    group_name="personalization",
    kinds={"python", "duckdb"},
    deps=[FEEDBACK],
    pool=WAREHOUSE_POOL,
)
def content_posteriors(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """Beta posteriors of click-through per segment × variant for the three variant families
    (personalization.content_posteriors), updated with the labelled sends not absorbed before
    (their ids in personalization.content_feedback_absorbed): a re-run on the same feedback
    changes nothing."""
    with duckdb.get_connection() as con:
        update = update_posteriors(con, CONTENT_VARIANTS, SEGMENTS, VARIANT_COLUMNS, _now())
    summary = update.personalizer.posterior_summary()
    leaders = (
        summary.sort_values("mean", ascending=False)
        .groupby(["family", "segment"], sort=True)
        .head(1)
        .sort_values(["family", "segment"])
    )
    context.log.info(
        "absorbed %d new feedback rows (%d in total)", update.new_feedback, update.total_feedback
    )
    return dg.MaterializeResult(
        metadata={
            "version": update.version,
            "new_feedback": update.new_feedback,
            "total_feedback": update.total_feedback,
            "leading_variants": dg.MetadataValue.md(
                leaders[["family", "segment", "variant", "mean", "lower", "upper", "n_updates"]]
                .round(4)
                .to_markdown(index=False)
            ),
        }
    )


class PersonalizationEvaluationConfig(dg.Config):
    """Simulation budget: `simulation_rounds` sends per family on the true CTRs, decided
    `batch_size` at a time (the product updates its posteriors in batches, not per click), ε of
    the ε-greedy baseline, and how many of the most recent logged sends the replay walks."""

    simulation_rounds: int = 50_000
    batch_size: int = 100
    epsilon: float = 0.1
    replay_sends: int = 100_000
    seed: int = 0


@dg.asset(
    group_name="personalization",
    kinds={"python", "duckdb"},
    deps=[content_posteriors],
    pool=WAREHOUSE_POOL,
)
def personalization_evaluation(
    context: dg.AssetExecutionContext,
    config: PersonalizationEvaluationConfig,
    duckdb: DuckDBResource,
) -> dg.MaterializeResult:
    """Thompson sampling next to uniform random, ε-greedy and the oracle's best variant per
    segment (true CTRs): simulated CTR, cumulative regret and uplift against the specification's
    +35 %; the stored posteriors' choices; a replay estimate on the logged sends (assigned at
    random). Written to monitoring.model_evaluations."""
    with duckdb.get_connection() as con:
        personalizer = load_personalizer(con, CONTENT_VARIANTS, SEGMENTS, VARIANT_COLUMNS)
        version = stored_version(con)
        true_ctr = content_ctr(con).to_pandas()
        feedback = logged_feedback(con, VARIANT_COLUMNS, config.replay_sends)
    report = assess_bandit(
        personalizer,
        true_ctr,
        feedback,
        rounds=config.simulation_rounds,
        batch_size=config.batch_size,
        epsilon=config.epsilon,
        seed=config.seed,
    )
    window = TimeWindow.covering(feedback["sent_at"])
    rows = report.metrics(MODEL_NAME, version, window.label, _now())
    with duckdb.get_connection() as con:
        written = write_model_evaluations(con, rows)
    context.log.info("wrote %d evaluation rows", written)
    return dg.MaterializeResult(
        metadata={
            "version": version,
            "evaluation": dg.MetadataValue.md(report.markdown()),
            "regret": dg.MetadataValue.md(png_markdown(report.regret_png(), "cumulative regret")),
            "thompson_ctr": report.simulated(ALL_FAMILIES, THOMPSON),
            "uniform_random_ctr": report.simulated(ALL_FAMILIES, UNIFORM_RANDOM),
            "ctr_uplift_vs_uniform_random_pct": report.simulated(
                ALL_FAMILIES, THOMPSON, "uplift_vs_uniform_random_pct"
            ),
        }
    )


class ContentAssignmentConfig(dg.Config):
    seed: int = 0


@dg.asset(
    key=["marts", "content_assignments"],
    group_name="personalization",
    kinds={"python", "duckdb"},
    deps=[personalization_evaluation],
    ins={"clients": dg.AssetIn(key=CLIENTS), "subscriptions": dg.AssetIn(key=SUBSCRIPTIONS)},
    pool=WAREHOUSE_POOL,
)
def content_assignments(
    context: dg.AssetExecutionContext,
    config: ContentAssignmentConfig,
    clients: pl.DataFrame,
    subscriptions: pl.DataFrame,
    duckdb: DuckDBResource,
) -> pl.DataFrame:
    """For every active client, one Thompson draw per variant family from the segment's stored
    posteriors: the chosen subject line, template and call-to-action style, each with its
    posterior mean and 95 % credible interval. Runs only after the validation gate passed."""
    with duckdb.get_connection() as con:
        personalizer = load_personalizer(con, CONTENT_VARIANTS, SEGMENTS, VARIANT_COLUMNS)
        version = stored_version(con)
    active = subscriptions.filter(pl.col("cancelled_date").is_null())["client_id"].unique()
    targets = clients.filter(pl.col("client_id").is_in(active.implode())).sort("client_id")
    assignments = assign_content(
        personalizer, targets, VARIANT_COLUMNS, np.random.default_rng(config.seed)
    ).with_columns(pl.lit(version).alias("model_version"), pl.lit(_now()).alias("scored_at"))
    context.add_output_metadata(
        {"dagster/row_count": assignments.height, "posterior_version": version}
    )
    return assignments
