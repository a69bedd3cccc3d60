"""Send-time optimizer assets: states, engagement hours, train (or update) + register, evaluate
against the oracle and the baselines, recommend."""

import dataclasses
import datetime as dt
import math
import tempfile
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb as duckdb_client
import mlflow
import pandas as pd
import polars as pl
from dagster_duckdb import DuckDBResource
from mlflow import MlflowClient
from mlflow.entities import Metric

from roi_assets.catalog import (
    SEND_TIME_LOGGED_SENDS,
    SEND_TIME_MODEL,
    SEND_TIME_RECOMMENDATIONS,
    SEND_TIME_STATES,
    SUBSCRIPTIONS,
)
from roi_assets.compiled_scoring import log_compiled
from roi_assets.deployment.lifecycle import admitted_plan, score_by_version
from roi_assets.evaluation.model_evaluations import write_model_evaluations
from roi_assets.evaluation.oracle_comparison import utc_naive
from roi_assets.evaluation.reliability import png_markdown
from roi_assets.evaluation.truth_tables import send_hour_probabilities
from roi_assets.evaluation.windows import TimeWindow
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.tracking import (
    CANDIDATE,
    load_model_by_alias,
    log_png,
    registered_version,
    set_alias,
    version_behind_alias,
)
from roi_assets.resources.warehouse import WAREHOUSE_POOL, table_exists
from roi_assets.send_time.dqn import DQNAgent, DQNConfig, TrainingHistory
from roi_assets.send_time.engagement_hours import engagement_counts, engagement_hour_table
from roi_assets.send_time.environment import STATE_FEATURES
from roi_assets.send_time.evaluation import DQN, ENGAGEMENT_HOUR, evaluate_send_time
from roi_assets.send_time.gate import GateVerdict, gate_verdict
from roi_assets.send_time.held_out import HELD_OUT_FRACTION
from roi_assets.send_time.off_policy import MAX_WEIGHT
from roi_assets.send_time.plots import training_curve_png
from roi_assets.send_time.policies import population_best_hour
from roi_assets.send_time.pyfunc import log_send_time_model
from roi_assets.send_time.recommendations import explore, recommendation_rows
from roi_assets.send_time.states import StateBuilder, latest_moment
from roi_assets.send_time.training import (
    SendTimeTraining,
    state_matrix,
    torch_threads,
    train_send_time_dqn,
)

MODEL_NAME = SEND_TIME_MODEL
CHECKPOINTS_ARTIFACT = "checkpoints/held_out_recommendations.parquet"
CURVE_METRIC_EVERY = 10  # iterations between learning-curve points logged to MLflow
ENGAGEMENT_HOURS = dg.AssetKey(["features", "feat_send_time_engagement_hours"])
# Registry tags of a version: the last logged send it learned from, and its state's contract.
TRAINED_THROUGH_TAG = "trained_through"
STATE_CONTRACT_TAG = "state_features"
STATE_SOURCES = [
    dg.AssetKey(["staging", "stg_email_sends"]),
    dg.AssetKey(["staging", "stg_email_events"]),
    dg.AssetKey(["staging", "stg_user_events"]),
    dg.AssetKey(["staging", "stg_clients"]),
    dg.AssetKey(["features", "feat_email_engagement"]),
]


class SendTimeTrainingConfig(dg.Config):
    """Training budget and the DQN's minibatch settings; the network, Adam's learning rate, the
    10,000-send replay and the target-network schedule stay the specification's (`DQNConfig`).

    Pre-training (no earlier version, or `warm_start` off) runs `iterations`; a daily update
    continues the latest version for `update_iterations`, the sends landed since it learned
    entering its replay first. One gradient step on 256 sends per iteration: each logged send
    teaches all 168 outputs (doubly robust targets), so larger minibatches beat more steps.
    """

    iterations: int = 600
    update_iterations: int = 150
    warm_start: bool = True
    checkpoint_every: int = 25
    batch_size: int = 256
    gradient_steps_per_iteration: int = 1
    open_model_iterations: int = 200
    seed: int = 0


class SendTimeRecommendationConfig(dg.Config):
    """Share of clients sent at a random hour instead of the decision's (ε-greedy exploration in
    the live loop, so the logs keep covering every hour), seeded by the scoring day."""

    exploration_rate: float = 0.02
    seed: int = 0


@dg.multi_asset(
    outs={
        "client_states": dg.AssetOut(
            key=SEND_TIME_STATES,
            kinds={"duckdb", "polars"},
            description="Every client's 20-dimensional send-time state (engagement history, "
            "hour-of-week open profile, UTC offset, stage) as of the latest moment the warehouse "
            "knows: the input of the DQN's recommendations and evaluation.",
        ),
        "logged_sends": dg.AssetOut(
            key=SEND_TIME_LOGGED_SENDS,
            kinds={"duckdb", "polars"},
            description="Every labelled email send with the client's send-time state as of the "
            "send, the local hour of week it went out at, its open and click, and the logging "
            "policy's estimated propensity: the experience the DQN learns from.",
        ),
    },
    group_name="send_time",
    deps=STATE_SOURCES,
    pool=WAREHOUSE_POOL,
)
def send_time_states(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Both state tables from one pass over the history (`StateBuilder`); the logged sends'
    states are carried over from the previous materialisation, so a day states only the sends
    labelled since."""
    with duckdb.get_connection() as con:
        known = _previous_logged_sends(con)
        states, sends = StateBuilder(con).client_and_logged_send_states(latest_moment(con), known)
    context.add_output_metadata(
        {"dagster/row_count": states.height, "as_of": str(states["as_of"].max())},
        output_name="client_states",
    )
    context.add_output_metadata(
        {
            "dagster/row_count": sends.height,
            "open_rate": float(sends["opened"].mean()),
            "previously_stated_sends": 0 if known is None else known.height,
        },
        output_name="logged_sends",
    )
    return states, sends


def _previous_logged_sends(con: duckdb_client.DuckDBPyConnection) -> pl.DataFrame | None:
    """The logged sends' states as last materialised, None before the first time."""
    schema, table = SEND_TIME_LOGGED_SENDS.path
    if not table_exists(con, schema, table):
        return None
    return con.execute(f"select * from {schema}.{table}").pl()


@dg.asset(
    key=ENGAGEMENT_HOURS,
    group_name="send_time",
    kinds={"duckdb", "polars"},
    ins={
        "logged_sends": dg.AssetIn(key=SEND_TIME_LOGGED_SENDS),
        "states": dg.AssetIn(key=SEND_TIME_STATES),
    },
    required_resource_keys={"duckdb"},
    pool=WAREHOUSE_POOL,
)
def send_time_engagement_hours(
    context: dg.AssetExecutionContext, logged_sends: pl.DataFrame, states: pl.DataFrame
) -> pl.DataFrame:
    """The industry's send time for every client: its most frequent engagement hour (opens,
    logins and document views, local hour of week) as of the states' moment, or the population's
    best hour in the logs for clients with little history."""
    fallback = population_best_hour(
        logged_sends["hour_of_week"].to_numpy(), logged_sends["opened"].to_numpy()
    )
    ids = states["client_id"].to_list()
    with context.resources.duckdb.get_connection() as con:
        counts = engagement_counts(con, states["as_of"].max(), ids)
    table = engagement_hour_table(counts, ids, fallback)
    context.add_output_metadata(
        {
            "dagster/row_count": table.height,
            "population_best_hour_of_week": fallback,
            "clients_on_fallback": int(table["fallback"].sum()),
            "distinct_hours": table["engagement_hour_of_week"].n_unique(),
        }
    )
    return table


def _dqn_config(config: SendTimeTrainingConfig) -> DQNConfig:
    return DQNConfig(
        batch_size=config.batch_size,
        gradient_steps_per_iteration=config.gradient_steps_per_iteration,
        seed=config.seed,
    )


def _log_learning_curve(history: TrainingHistory) -> None:
    """The training curve as MLflow metrics with steps, in one request."""
    curve = history.to_frame().iloc[CURVE_METRIC_EVERY - 1 :: CURVE_METRIC_EVERY]
    timestamp = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    metrics = [
        Metric(name, float(row[name]), timestamp, int(row["iteration"]))
        for _, row in curve.iterrows()
        for name in ("moving_average_reward", "loss", "epsilon")
        if not math.isnan(row[name])  # the loss is NaN until the replay holds learning_starts
    ]
    MlflowClient().log_batch(mlflow.active_run().info.run_id, metrics=metrics)


def _previous_agent(config: SendTimeTrainingConfig) -> tuple[DQNAgent, str, dt.datetime] | None:
    """The latest version to continue (agent, version, last send it learned from), or None to
    pre-train: no version yet, warm start off, or a version built on another state contract."""
    version = version_behind_alias(MODEL_NAME, CANDIDATE)
    if not config.warm_start or version is None:
        return None
    tags = MlflowClient().get_model_version(MODEL_NAME, version).tags
    if tags.get(STATE_CONTRACT_TAG) != ",".join(STATE_FEATURES) or TRAINED_THROUGH_TAG not in tags:
        return None
    agent = load_model_by_alias(MODEL_NAME, CANDIDATE).unwrap_python_model().agent
    return agent, version, dt.datetime.fromisoformat(tags[TRAINED_THROUGH_TAG])


def _log_and_register(trained: SendTimeTraining, params: dict, curve_png: bytes) -> str:
    """Log a training to the active MLflow run (parameters, curve, held-out checkpoints, the
    model and its compiled form) and register it; returns the new version."""
    history = trained.history
    mlflow.log_params(
        {
            **params,
            "reward": "open within 7 days",
            "targets": "doubly robust (reward model + importance-weighted residual)",
            "max_importance_weight": MAX_WEIGHT,
            "held_out_fraction": HELD_OUT_FRACTION,
            "training_sends": trained.n_training_sends,
            "new_sends": trained.n_new_sends,
            "training_clients": trained.n_training_clients,
        }
    )
    mlflow.log_metrics(
        {
            "iterations_to_convergence_training_curve": history.iterations_to_convergence,
            "final_loss": float(history.loss[-1]),
            "open_model_boosting_iterations": trained.reward_model.boosting_iterations,
            "training_seconds": trained.seconds,
        }
    )
    _log_learning_curve(history)
    log_png(curve_png, "learning_curve.png")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(CHECKPOINTS_ARTIFACT).name
        trained.checkpoints.write_parquet(path)
        mlflow.log_artifact(str(path), artifact_path=str(Path(CHECKPOINTS_ARTIFACT).parent))
    info = log_send_time_model(trained.agent, name="model", registered_model_name=MODEL_NAME)
    log_compiled(info, trained.agent)
    return registered_version(info)


def _tag_candidate(version: str, trained_through: dt.datetime) -> None:
    """Tag a new version with what a daily update continues from, and make it the candidate."""
    client = MlflowClient()
    client.set_model_version_tag(MODEL_NAME, version, TRAINED_THROUGH_TAG, str(trained_through))
    client.set_model_version_tag(MODEL_NAME, version, STATE_CONTRACT_TAG, ",".join(STATE_FEATURES))
    set_alias(MODEL_NAME, CANDIDATE, version)


@dg.asset(
    group_name="send_time",
    kinds={"pytorch", "scikitlearn", "mlflow"},
    ins={
        "logged_sends": dg.AssetIn(key=SEND_TIME_LOGGED_SENDS),
        "states": dg.AssetIn(key=SEND_TIME_STATES),
    },
    required_resource_keys={"mlflow"},
)
def send_time_model(
    context: dg.AssetExecutionContext,
    config: SendTimeTrainingConfig,
    logged_sends: pl.DataFrame,
    states: pl.DataFrame,
) -> dg.MaterializeResult:
    """The specification's DQN over the 168 hours of the week, learning off-policy from the
    logged sends of the clients outside the held-out share (doubly robust targets with the
    logging policy's propensities, bootstrapped from each client's next send: `off_policy`,
    `dqn`). The first run pre-trains; each later run (the daily refit) continues the latest
    version with the outcomes landed since it learned. Logged to MLflow with its learning curve
    and registered as a new `candidate` version of roi-send-time-dqn."""
    dqn_config = _dqn_config(config)
    previous = _previous_agent(config)
    agent, continued_from, new_since = previous or (None, None, None)
    iterations = config.update_iterations if previous else config.iterations
    with torch_threads(1):
        trained = train_send_time_dqn(
            logged_sends,
            states,
            config=dqn_config,
            iterations=iterations,
            checkpoint_every=config.checkpoint_every,
            open_model_iterations=config.open_model_iterations,
            agent=agent,
            new_since=new_since,
        )
    curve_png = training_curve_png(trained.history, title=f"{MODEL_NAME} training")
    params = {
        **{k: v for k, v in dataclasses.asdict(dqn_config).items() if k != "device"},
        "iterations": iterations,
        "checkpoint_every": config.checkpoint_every,
        "continued_from_version": continued_from or "none (pre-training)",
        "open_model_max_iterations": config.open_model_iterations,
    }
    with context.resources.mlflow.start_run(run_name=MODEL_NAME, nested=True):
        version = _log_and_register(trained, params, curve_png)
    _tag_candidate(version, trained_through=logged_sends["sent_at"].max())
    context.log.info("%s: registered version %s", MODEL_NAME, version)
    return dg.MaterializeResult(
        metadata={
            "version": version,
            "continued_from_version": continued_from or "none (pre-training)",
            "training_sends": trained.n_training_sends,
            "new_sends": trained.n_new_sends,
            "training_clients": trained.n_training_clients,
            "training_seconds": round(trained.seconds, 1),
            "iterations": iterations,
            "learning_curve": dg.MetadataValue.md(png_markdown(curve_png, "training curve")),
        }
    )


def _checkpoints(version: str) -> pl.DataFrame:
    """The held-out recommendations the candidate's training recorded at its checkpoints."""
    client = MlflowClient()
    run_id = client.get_model_version(MODEL_NAME, version).run_id
    with tempfile.TemporaryDirectory() as folder:
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=CHECKPOINTS_ARTIFACT, dst_path=folder
        )
        return pl.read_parquet(path)


@dg.asset(
    group_name="send_time",
    kinds={"python", "duckdb"},
    deps=[send_time_model],
    ins={
        "logged_sends": dg.AssetIn(key=SEND_TIME_LOGGED_SENDS),
        "states": dg.AssetIn(key=SEND_TIME_STATES),
        "engagement_hours": dg.AssetIn(key=ENGAGEMENT_HOURS),
    },
    required_resource_keys={"mlflow", "duckdb"},
    pool=WAREHOUSE_POOL,
)
def send_time_evaluation(
    context: dg.AssetExecutionContext,
    logged_sends: pl.DataFrame,
    states: pl.DataFrame,
    engagement_hours: pl.DataFrame,
) -> dg.MaterializeResult:
    """The candidate on the held-out clients: expected open and click rate at its hour vs a
    random hour, the client's historical best hour, its most frequent engagement hour, the
    population's best hour and the oracle's best hour (true probabilities), uplift against the
    specification's +25 % / +30 %, iterations to convergence and the learning curve; written to
    monitoring.model_evaluations."""
    duckdb: DuckDBResource = context.resources.duckdb
    version = str(version_behind_alias(MODEL_NAME, CANDIDATE))
    agent = load_model_by_alias(MODEL_NAME, CANDIDATE).unwrap_python_model().agent
    with duckdb.get_connection() as con:
        truth = send_hour_probabilities(con)
    with torch_threads(1):
        evaluation = evaluate_send_time(
            agent, states, logged_sends, truth, _checkpoints(version), engagement_hours
        )
    window = TimeWindow(logged_sends["sent_at"].min(), states["as_of"].max())
    rows = evaluation.metrics(MODEL_NAME, version, window.label, utc_naive(dt.datetime.now(dt.UTC)))
    with duckdb.get_connection() as con:
        written = write_model_evaluations(con, rows)
    context.log.info("wrote %d evaluation rows", written)
    return dg.MaterializeResult(
        metadata={
            "version": version,
            "evaluation": dg.MetadataValue.md(evaluation.markdown()),
            "learning_curve": dg.MetadataValue.md(
                png_markdown(evaluation.learning_curve_png(), "DQN learning curve")
            ),
            "expected_open_rate": evaluation.value(DQN),
            "engagement_hour_open_rate": evaluation.value(ENGAGEMENT_HOUR),
            "open_uplift_vs_random_pct": evaluation.value(DQN, "open_uplift_vs_random_pct"),
            "click_uplift_vs_random_pct": evaluation.value(DQN, "click_uplift_vs_random_pct"),
            "iterations_to_convergence": evaluation.iterations_to_convergence,
        }
    )


@dg.asset(
    key=SEND_TIME_RECOMMENDATIONS,
    group_name="send_time",
    kinds={"python", "duckdb"},
    deps=[send_time_evaluation],
    ins={
        "states": dg.AssetIn(key=SEND_TIME_STATES),
        "subscriptions": dg.AssetIn(key=SUBSCRIPTIONS),
        "engagement_hours": dg.AssetIn(key=ENGAGEMENT_HOURS),
    },
    pool=WAREHOUSE_POOL,
)
def send_time_recommendations(
    context: dg.AssetExecutionContext,
    config: SendTimeRecommendationConfig,
    states: pl.DataFrame,
    subscriptions: pl.DataFrame,
    engagement_hours: pl.DataFrame,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> pl.DataFrame:
    """For every active client, the hour of the week to send at, in local time and in UTC, with
    the expected open rate there; `model_version` names what decided. Runs when the validation
    gate passed (the gated candidate becomes `challenger`, and `champion` when there is none; each
    client gets the version serving it: the champion, or the challenger for the clients its A/B
    test or rollout reaches) or when it failed with a warning: the DQN fell short but the
    engagement-hour baseline beats the population's best hour offline, so the baseline decides and
    nothing is promoted. A share of clients (`exploration_rate`) gets a random hour."""
    client = registry.client()
    candidate = registry.version(MODEL_NAME, CANDIDATE)
    with duckdb.get_connection() as con:
        verdict = gate_verdict(con, MODEL_NAME, str(candidate))
    active = subscriptions.filter(pl.col("cancelled_date").is_null())["client_id"].unique()
    clients = states.filter(pl.col("client_id").is_in(active.implode())).sort("client_id")
    scored_at = utc_naive(dt.datetime.now(dt.UTC))
    seed = [config.seed, clients["as_of"].max().toordinal()]
    if verdict.publishes_fallback:
        context.log.info(
            "%s v%s failed its gate: the engagement hour decides", MODEL_NAME, candidate
        )
        predictions = _engagement_hour_predictions(clients, engagement_hours, verdict)
        explored = explore(predictions, config.exploration_rate, seed)
        recommendations = recommendation_rows(clients, explored, ENGAGEMENT_HOUR, scored_at)
        decided_by, share = ENGAGEMENT_HOUR, 0.0
    else:
        with duckdb.get_connection() as con:
            plan = admitted_plan(con, client, MODEL_NAME, candidate, verdict.passed, context.log)
        if plan.champion_version is None:
            raise RuntimeError(f"{MODEL_NAME} has no champion and v{candidate} failed its gate")
        recommend = _recommender(registry, config.exploration_rate, seed, scored_at)
        recommendations = score_by_version(plan, clients, recommend).sort("client_id")
        decided_by, share = str(plan.champion_version), plan.challenger_share
    context.add_output_metadata(
        {
            "dagster/row_count": recommendations.height,
            "decided_by": decided_by,
            "mean_expected_open_probability": float(
                recommendations["expected_open_probability"].mean()
            ),
            "distinct_hours": recommendations["best_hour_of_week_local"].n_unique(),
            "challenger_share": share,
        }
    )
    return recommendations


def _recommender(
    registry: ModelRegistry, exploration_rate: float, seed: list[int], scored_at: dt.datetime
) -> Callable[[str, pl.DataFrame], pl.DataFrame]:
    """Recommendation rows of one registered version for a part of the clients, a share of them
    explored at random hours."""

    def recommend(version: str, part: pl.DataFrame) -> pl.DataFrame:
        model = registry.load_version(MODEL_NAME, version)
        with torch_threads(1):
            chosen = explore(model.predict(state_matrix(part)), exploration_rate, seed)
        return recommendation_rows(part, chosen, version, scored_at)

    return recommend


def _engagement_hour_predictions(
    clients: pl.DataFrame, engagement_hours: pl.DataFrame, verdict: GateVerdict
) -> pd.DataFrame:
    """The baseline's hours shaped like the pyfunc's predictions; its expected reward is its
    offline open rate (no per-client estimate exists for it)."""
    hours = clients.select("client_id").join(
        engagement_hours, on="client_id", how="left", maintain_order="left"
    )
    return pd.DataFrame(
        {
            "best_hour_of_week": hours["engagement_hour_of_week"].to_numpy(),
            "expected_reward": verdict.fallback.model_value,
        }
    )
