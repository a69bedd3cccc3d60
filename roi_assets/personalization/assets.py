"""Content personalizer assets: posteriors updated from feedback and registered as a daily
snapshot, the snapshot's evaluation, and the assignments the champion (and during its A/B test
or rollout, the challenger) serve."""

import datetime as dt

import dagster as dg
import numpy as np
import polars as pl
from dagster_duckdb import DuckDBResource

from roi_assets.catalog import (
    CLIENTS,
    CONTENT_ASSIGNMENTS,
    CONTENT_BANDIT_MODEL,
    EMAIL_FEATURES,
    SUBSCRIPTIONS,
)
from roi_assets.deployment.lifecycle import admitted_plan
from roi_assets.evaluation.model_evaluations import write_model_evaluations
from roi_assets.evaluation.oracle_comparison import utc_naive
from roi_assets.evaluation.reliability import png_markdown
from roi_assets.evaluation.truth_tables import content_ctr
from roi_assets.evaluation.windows import TimeWindow
from roi_assets.personalization.assignments import content_assignments as assign_content
from roi_assets.personalization.evaluation import THOMPSON, UNIFORM_RANDOM
from roi_assets.personalization.gate import candidate_decision
from roi_assets.personalization.report import ALL_FAMILIES, assess_bandit
from roi_assets.personalization.rewards import FUNNEL_REWARDS
from roi_assets.personalization.snapshot import register_snapshot
from roi_assets.personalization.store import (
    logged_feedback,
    update_posteriors,
)
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.tracking import CANDIDATE, set_alias
from roi_assets.resources.warehouse import WAREHOUSE_POOL
from roi_assets.simulator.catalog import CONTENT_VARIANTS, SEGMENTS, VARIANT_COLUMNS

MODEL_NAME = CONTENT_BANDIT_MODEL


def _now() -> dt.datetime:
    return utc_naive(dt.datetime.now(dt.UTC))


@dg.asset(
    key=["personalization", "content_posteriors"],
    group_name="personalization",
    kinds={"python", "duckdb", "mlflow"},
    deps=[EMAIL_FEATURES],
    # dagster-mlflow's legacy resource opens the run the snapshot is logged in.
    required_resource_keys={"mlflow", "duckdb", "registry"},
    pool=WAREHOUSE_POOL,
)
def content_posteriors(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Beta posteriors per segment × variant for the three variant families
    (personalization.content_posteriors): of opens for the subject line, of clicks for the
    template and the CTA (`personalization.rewards`). Updated with the labelled sends not
    absorbed before (their ids in personalization.content_feedback_absorbed): a re-run on the
    same feedback changes nothing. The day's posteriors are registered as a new `candidate`
    version of roi-content-bandit, the champion's online update once its gate passes; a run that
    absorbed nothing new keeps the candidate that holds the same feedback."""
    duckdb: DuckDBResource = context.resources.duckdb
    registry: ModelRegistry = context.resources.registry
    client = registry.client()
    with duckdb.get_connection() as con:
        update = update_posteriors(
            con, CONTENT_VARIANTS, SEGMENTS, VARIANT_COLUMNS, _now(), FUNNEL_REWARDS
        )
    registered = register_snapshot(client, update, MODEL_NAME, CANDIDATE)
    set_alias(MODEL_NAME, CANDIDATE, registered, client)
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
            "version": registered,
            "feedback_version": update.version,
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
    registry: ModelRegistry,
) -> dg.MaterializeResult:
    """The candidate snapshot's posteriors: their choices (the variant with the highest
    posterior mean per segment, what serves) scored on the true CTRs next to uniform random and
    the oracle's best variant; Thompson sampling from scratch next to uniform random and
    ε-greedy (simulated CTR, cumulative regret, uplift against the specification's +35 %); a
    replay estimate on the logged sends (assigned at random). Written to
    monitoring.model_evaluations under the candidate's version."""
    version = registry.version(MODEL_NAME, CANDIDATE)
    snapshot = registry.load(MODEL_NAME, CANDIDATE).unwrap_python_model()
    personalizer = snapshot.personalizer(CONTENT_VARIANTS, SEGMENTS, VARIANT_COLUMNS)
    with duckdb.get_connection() as con:
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
    key=CONTENT_ASSIGNMENTS,
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
    registry: ModelRegistry,
) -> pl.DataFrame:
    """For every active client, one Thompson draw per variant family from the segment's
    posteriors of the version serving the client (the champion snapshot, or the challenger's for
    the clients its A/B test or rollout reaches): the chosen subject line, template and
    call-to-action style, each with its posterior mean and 95 % credible interval. Runs only
    after the validation gate passed; the candidate is admitted when its recorded evaluation
    passes the gate's rule (champion at once when it is the champion's online update, else
    `challenger`), so a snapshot no gate judged (registered by a run killed before its gate)
    never serves, whatever else the run selected."""
    client = registry.client()
    candidate = registry.version(MODEL_NAME, CANDIDATE)
    with duckdb.get_connection() as con:
        decision = candidate_decision(con, candidate)
        passed = decision is not None and decision.passed
        plan = admitted_plan(con, client, MODEL_NAME, candidate, passed, context.log)
    if plan.champion_version is None:
        raise dg.Failure(f"no version of {MODEL_NAME} passed its gate: no content to assign")
    active = subscriptions.filter(pl.col("cancelled_date").is_null())["client_id"].unique()
    targets = clients.filter(pl.col("client_id").is_in(active.implode())).sort("client_id")
    targets = targets.with_columns(plan.versions(targets["client_id"]))
    rng = np.random.default_rng(config.seed)
    parts = []
    for (version,), group in targets.group_by("model_version", maintain_order=True):
        snapshot = registry.load_version(MODEL_NAME, version).unwrap_python_model()
        personalizer = snapshot.personalizer(CONTENT_VARIANTS, SEGMENTS, VARIANT_COLUMNS)
        parts.append(
            assign_content(
                personalizer, group.drop("model_version"), VARIANT_COLUMNS, rng
            ).with_columns(pl.lit(version).alias("model_version"))
        )
    assignments = pl.concat(parts).sort("client_id").with_columns(pl.lit(_now()).alias("scored_at"))
    context.add_output_metadata(
        {
            "dagster/row_count": assignments.height,
            "champion_version": str(plan.champion_version),
            "challenger_version": str(plan.challenger_version),
            "challenger_share": plan.challenger_share,
        }
    )
    return assignments
