"""Send-time optimizer assets: states, train + register, evaluate against the oracle, recommend."""

import dataclasses
import datetime as dt
import math
import tempfile
from pathlib import Path

import dagster as dg
import mlflow
import polars as pl
from dagster_duckdb import DuckDBResource
from mlflow import MlflowClient
from mlflow.entities import Metric

from roi_assets.compiled_scoring import log_compiled
from roi_assets.deployment.lifecycle import admit_candidate, score_by_version, serving_plan
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
from roi_assets.resources.warehouse import WAREHOUSE_POOL
from roi_assets.send_time.dqn import DQNConfig, TrainingHistory
from roi_assets.send_time.evaluation import DQN, evaluate_send_time
from roi_assets.send_time.held_out import HELD_OUT_FRACTION
from roi_assets.send_time.plots import training_curve_png
from roi_assets.send_time.pyfunc import log_send_time_model
from roi_assets.send_time.recommendations import recommendation_rows
from roi_assets.send_time.states import client_states, latest_moment, logged_send_states
from roi_assets.send_time.training import state_matrix, torch_threads, train_send_time_dqn

MODEL_NAME = "roi-send-time-dqn"
CHECKPOINTS_ARTIFACT = "checkpoints/held_out_recommendations.parquet"
CURVE_METRIC_EVERY = 10  # iterations between learning-curve points logged to MLflow
CLIENT_STATES = dg.AssetKey(["features", "feat_send_time_state"])
LOGGED_SENDS = dg.AssetKey(["features", "feat_send_time_logged_sends"])
SUBSCRIPTIONS = dg.AssetKey(["staging", "stg_subscriptions"])
STATE_SOURCES = [
    dg.AssetKey(["staging", "stg_email_sends"]),
    dg.AssetKey(["staging", "stg_email_events"]),
    dg.AssetKey(["staging", "stg_clients"]),
    dg.AssetKey(["features", "feat_email_engagement"]),
]


class SendTimeTrainingConfig(dg.Config):
    """Training budget and the DQN's minibatch settings; the network, Adam's learning rate, the
    10,000-send replay and the target-network schedule stay the specification's (`DQNConfig`).

    One gradient step on 256 sends per iteration: on the default world it reached the same open
    rate as two steps on 64 (the `DQNConfig` default, tuned on a toy world) with less
    iteration-to-iteration wobble of the greedy hours, at the same cost.
    """

    iterations: int = 1000
    checkpoint_every: int = 25
    batch_size: int = 256
    gradient_steps_per_iteration: int = 1
    open_model_iterations: int = 200
    seed: int = 0


@dg.asset(
    key=CLIENT_STATES,
    group_name="send_time",
    kinds={"duckdb", "polars"},
    deps=STATE_SOURCES,
    pool=WAREHOUSE_POOL,
)
def send_time_client_states(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource
) -> pl.DataFrame:
    """Every client's 20-dimensional send-time state (engagement history, hour-of-week open
    profile, UTC offset, stage) as of the latest moment the warehouse knows, from email history
    only: the input of the DQN's recommendations and evaluation."""
    with duckdb.get_connection() as con:
        states = client_states(con, latest_moment(con))
    context.add_output_metadata(
        {"dagster/row_count": states.height, "as_of": str(states["as_of"].max())}
    )
    return states


@dg.asset(
    key=LOGGED_SENDS,
    group_name="send_time",
    kinds={"duckdb", "polars"},
    deps=STATE_SOURCES,
    pool=WAREHOUSE_POOL,
)
def send_time_logged_sends(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource
) -> pl.DataFrame:
    """Every labelled email send with the client's send-time state as of the send, the local hour
    of week it went out at, its open and click, and the logging policy's estimated propensity:
    the experience the DQN learns from."""
    with duckdb.get_connection() as con:
        sends = logged_send_states(con)
    context.add_output_metadata(
        {"dagster/row_count": sends.height, "open_rate": float(sends["opened"].mean())}
    )
    return sends


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


@dg.asset(
    group_name="send_time",
    kinds={"pytorch", "scikitlearn", "mlflow"},
    ins={"logged_sends": dg.AssetIn(key=LOGGED_SENDS), "states": dg.AssetIn(key=CLIENT_STATES)},
    required_resource_keys={"mlflow"},
)
def send_time_model(
    context: dg.AssetExecutionContext,
    config: SendTimeTrainingConfig,
    logged_sends: pl.DataFrame,
    states: pl.DataFrame,
) -> dg.MaterializeResult:
    """The specification's DQN over the 168 hours of the week, trained on the clients outside the
    held-out share against an environment learned from their logged sends (see
    `send_time.open_model` for why not on the raw logs, and why no simulator truth is read);
    logged to MLflow with its learning curve and registered as a new `candidate` version of
    roi-send-time-dqn. The curve here is the reward the learned environment gives the training
    sends; the evaluation measures convergence on true open rates."""
    tracking = context.resources.mlflow
    dqn_config = _dqn_config(config)
    with torch_threads(1):
        trained = train_send_time_dqn(
            logged_sends,
            states,
            config=dqn_config,
            iterations=config.iterations,
            checkpoint_every=config.checkpoint_every,
            open_model_iterations=config.open_model_iterations,
        )
    history = trained.history
    curve_png = training_curve_png(history, title=f"{MODEL_NAME} training")
    with tracking.start_run(run_name=MODEL_NAME, nested=True):
        tracking.log_params(
            {
                **{k: v for k, v in dataclasses.asdict(dqn_config).items() if k != "device"},
                "iterations": config.iterations,
                "checkpoint_every": config.checkpoint_every,
                "reward": "open within 7 days",
                "environment": "learned from logged sends (open_model)",
                "open_model_max_iterations": config.open_model_iterations,
                "held_out_fraction": HELD_OUT_FRACTION,
                "training_sends": trained.n_training_sends,
                "training_clients": trained.n_training_clients,
            }
        )
        tracking.log_metrics(
            {
                "iterations_to_convergence_training_curve": history.iterations_to_convergence,
                "final_moving_average_reward": float(history.moving_average_reward[-1]),
                "open_model_boosting_iterations": trained.open_model.boosting_iterations,
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
        version = registered_version(info)
    set_alias(MODEL_NAME, CANDIDATE, version)
    context.log.info("%s: registered version %s", MODEL_NAME, version)
    return dg.MaterializeResult(
        metadata={
            "version": version,
            "training_sends": trained.n_training_sends,
            "training_clients": trained.n_training_clients,
            "training_seconds": round(trained.seconds, 1),
            "iterations": config.iterations,
            "iterations_to_convergence_training_curve": history.iterations_to_convergence,
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
    ins={"logged_sends": dg.AssetIn(key=LOGGED_SENDS), "states": dg.AssetIn(key=CLIENT_STATES)},
    required_resource_keys={"mlflow", "duckdb"},
    pool=WAREHOUSE_POOL,
)
def send_time_evaluation(
    context: dg.AssetExecutionContext, logged_sends: pl.DataFrame, states: pl.DataFrame
) -> dg.MaterializeResult:
    """The candidate on the held-out clients: expected open and click rate at its hour vs a
    random hour, the client's historical best hour and the oracle's best hour (true
    probabilities), uplift against the specification's +25 % / +30 %, iterations to convergence
    and the learning curve; written to monitoring.model_evaluations."""
    duckdb: DuckDBResource = context.resources.duckdb
    version = str(version_behind_alias(MODEL_NAME, CANDIDATE))
    agent = load_model_by_alias(MODEL_NAME, CANDIDATE).unwrap_python_model().agent
    with duckdb.get_connection() as con:
        truth = send_hour_probabilities(con)
    with torch_threads(1):
        evaluation = evaluate_send_time(agent, states, logged_sends, truth, _checkpoints(version))
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
            "open_uplift_vs_random_pct": evaluation.value(DQN, "open_uplift_vs_random_pct"),
            "click_uplift_vs_random_pct": evaluation.value(DQN, "click_uplift_vs_random_pct"),
            "iterations_to_convergence": evaluation.iterations_to_convergence,
        }
    )


@dg.asset(
    key=["marts", "send_time_recommendations"],
    group_name="send_time",
    kinds={"python", "duckdb"},
    deps=[send_time_evaluation],
    ins={"states": dg.AssetIn(key=CLIENT_STATES), "subscriptions": dg.AssetIn(key=SUBSCRIPTIONS)},
    pool=WAREHOUSE_POOL,
)
def send_time_recommendations(
    context: dg.AssetExecutionContext,
    states: pl.DataFrame,
    subscriptions: pl.DataFrame,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> pl.DataFrame:
    """For every active client, the best hour of the week to send at, in local time and in
    UTC, with the expected open probability there, from the version serving the client (the
    champion, or the challenger for the clients its A/B test or rollout reaches). Runs only
    after the validation gate passed: the gated candidate becomes `challenger` (and `champion`
    when there is none)."""
    client = registry.client()
    aliases = admit_candidate(client, MODEL_NAME, registry.version(MODEL_NAME, CANDIDATE), True)
    context.log.info("%s candidate is now %s", MODEL_NAME, ", ".join(aliases) or "unchanged")
    with duckdb.get_connection() as con:
        plan = serving_plan(con, client, MODEL_NAME)
    active = subscriptions.filter(pl.col("cancelled_date").is_null())["client_id"].unique()
    clients = states.filter(pl.col("client_id").is_in(active.implode())).sort("client_id")
    scored_at = utc_naive(dt.datetime.now(dt.UTC))

    def recommend(version: str, part: pl.DataFrame) -> pl.DataFrame:
        model = registry.load_version(MODEL_NAME, version)
        with torch_threads(1):
            predictions = model.predict(state_matrix(part))
        return recommendation_rows(part, predictions, version, scored_at)

    recommendations = score_by_version(plan, clients, recommend).sort("client_id")
    context.add_output_metadata(
        {
            "dagster/row_count": recommendations.height,
            "mean_expected_open_probability": float(
                recommendations["expected_open_probability"].mean()
            ),
            "distinct_hours": recommendations["best_hour_of_week_local"].n_unique(),
            "champion_version": str(plan.champion_version),
            "challenger_share": plan.challenger_share,
        }
    )
    return recommendations
