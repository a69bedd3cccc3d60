"""Engagement predictor assets: train + register, evaluate against the oracle, gate, score."""

import datetime as dt
from collections.abc import Callable
from typing import Any

import dagster as dg
import mlflow.sklearn
import polars as pl
from dagster_duckdb import DuckDBResource

from roi_assets.catalog import (
    EMAIL_FEATURES,
    ENGAGEMENT_EVALUATION_FRACTION,
    ENGAGEMENT_MODELS,
    ENGAGEMENT_SCORES,
)
from roi_assets.compiled_scoring import log_compiled
from roi_assets.deployment.lifecycle import admitted_plan, score_by_version
from roi_assets.engagement.baseline import LOGISTIC_BASELINE_NAME, train_logistic_baseline
from roi_assets.engagement.features import HEADLINE_TARGET, TIME_COLUMN, labelled_history
from roi_assets.engagement.gate import candidate_decision
from roi_assets.engagement.model import (
    SPECIFICATION_PARAM_GRID,
    SPECIFICATION_TARGETS,
    best_point_grid,
    predict_proba,
    train_engagement_model,
)
from roi_assets.engagement.scoring import SCORING_TABLE, read_scoring_rows
from roi_assets.evaluation.model_evaluations import write_model_evaluations
from roi_assets.evaluation.oracle_comparison import base_rate_scores, compare_with_oracle
from roi_assets.evaluation.reliability import png_markdown, reliability_plot_png
from roi_assets.evaluation.targets import targets_markdown
from roi_assets.evaluation.truth_tables import email_send_probabilities
from roi_assets.evaluation.windows import TimeWindow, latest_rows, time_ordered_split
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.tracking import (
    CANDIDATE,
    load_model_by_alias,
    log_sklearn_model,
    params_behind_alias,
    registered_version,
    set_alias,
    version_behind_alias,
)
from roi_assets.resources.warehouse import WAREHOUSE_POOL

TARGETS = ENGAGEMENT_MODELS
TRUE_PROBABILITY = {
    "opened_within_7d": "p_open",
    "clicked_within_7d": "p_click",
    "acted_within_7d": "p_action",
}
# The mart's column per target (the true probabilities' names).
SCORE_COLUMNS = TRUE_PROBABILITY
EVALUATION_FRACTION = ENGAGEMENT_EVALUATION_FRACTION
FEATURES = EMAIL_FEATURES
# Training (the model's search and the logistic baseline) uses the latest sends of the training
# window, at most this many: at `large` (3.4 million labelled sends before the evaluation window)
# the learning curve is flat long before it (docs/benchmarks.md, `benchmarks/learning_curve.py`).
# The default world's 61,000 are all used.
MAX_TRAINING_ROWS = 200_000


class EngagementTrainingConfig(dg.Config):
    """`full_grid` runs the specification's 27-point grid (the weekly search); otherwise the
    refit uses the best point of the latest search (the daily retrain), or a default point before
    any search ran. `n_splits` 0 refits that point without cross-validation."""

    full_grid: bool = True
    n_splits: int = 5
    n_jobs: int = 2


def _small_grid() -> dict[str, list]:
    return {
        "classifier__n_estimators": [100],
        "classifier__max_depth": [4],
        "classifier__learning_rate": [0.1],
    }


def _refit_grid(model_name: str) -> dict[str, list]:
    """One point: the parameters the latest registered version was trained with."""
    return best_point_grid(params_behind_alias(model_name, CANDIDATE), _small_grid())


def _training_and_evaluation_rows(features: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Labelled sends split in time: the model never sees the evaluation window, and trains on
    the latest `MAX_TRAINING_ROWS` before it."""
    labelled = labelled_history(features, HEADLINE_TARGET)
    training, evaluation = time_ordered_split(labelled, TIME_COLUMN, EVALUATION_FRACTION)
    return latest_rows(training, TIME_COLUMN, MAX_TRAINING_ROWS), evaluation


@dg.asset(
    group_name="engagement",
    kinds={"xgboost", "mlflow"},
    ins={"features": dg.AssetIn(key=FEATURES)},
    required_resource_keys={"mlflow"},
)
def engagement_model(
    context: dg.AssetExecutionContext, config: EngagementTrainingConfig, features: pl.DataFrame
) -> dg.MaterializeResult:
    """XGBoost pipelines for opens (headline), clicks and the email's action within 7 days, tuned
    by time-series grid search, calibrated and thresholded on a later slice; logged to MLflow and
    registered as a new `candidate` version of roi-engagement-open / -click / -action."""
    mlflow = context.resources.mlflow
    training, _ = _training_and_evaluation_rows(features)
    metadata: dict[str, Any] = {
        "training_rows": len(training),
        "training_from": str(training[TIME_COLUMN].min()),
    }
    for target, model_name in TARGETS.items():
        grid = SPECIFICATION_PARAM_GRID if config.full_grid else _refit_grid(model_name)
        with mlflow.start_run(run_name=model_name, nested=True):
            trained = train_engagement_model(
                training, target, param_grid=grid, n_splits=config.n_splits, n_jobs=config.n_jobs
            )
            mlflow.log_params(
                {**trained.best_params, "target": target, "grid_points": len(trained.cv_results)}
            )
            mlflow.log_metrics(
                {"training_seconds": trained.training_seconds}
                | trained.cross_validated
                | {f"validation_{k}": v for k, v in trained.validation_metrics.items()}
            )
            info = log_sklearn_model(
                trained.estimator,
                name="model",
                input_example=training.head(5).to_pandas(),
                registered_model_name=model_name,
            )
            log_compiled(info, trained.estimator)
            version = registered_version(info)
            set_alias(model_name, CANDIDATE, version)
        context.log.info("%s: registered version %s", model_name, version)
        metadata[f"{target}_version"] = version
        metadata.update({f"{target}_{k}": v for k, v in trained.cross_validated.items()})
        metadata[f"{target}_training_seconds"] = round(trained.training_seconds, 1)
        metadata[f"{target}_best_params"] = str(trained.best_params)
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    group_name="engagement",
    kinds={"python", "duckdb"},
    deps=[engagement_model],
    ins={"features": dg.AssetIn(key=FEATURES)},
    pool=WAREHOUSE_POOL,
)
def engagement_evaluation(
    context: dg.AssetExecutionContext, features: pl.DataFrame, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """The candidate versions on the later window they never saw, next to the oracle (true
    probabilities) and the base-rate and logistic-regression baselines; written to
    monitoring.model_evaluations. The customer's targets (precision .85, recall .80, F1 .82,
    AUC .90) stand next to what the model and the oracle reach on the same rows."""
    training, evaluation = _training_and_evaluation_rows(features)
    with duckdb.get_connection() as con:
        truth = email_send_probabilities(con)
    evaluation = evaluation.join(truth, on="send_id", how="inner")
    window = TimeWindow.covering(evaluation[TIME_COLUMN])
    metadata: dict[str, Any] = {"evaluation_rows": len(evaluation)}
    frames = []
    for target, model_name in TARGETS.items():
        metrics, target_metadata = _candidate_against_oracle(
            target, model_name, training, evaluation, window
        )
        frames.append(metrics)
        metadata.update(target_metadata)
    with duckdb.get_connection() as con:
        written = sum(write_model_evaluations(con, frame) for frame in frames)
    context.log.info("wrote %d evaluation rows", written)
    return dg.MaterializeResult(metadata=metadata)


def _candidate_against_oracle(
    target: str,
    model_name: str,
    training: pl.DataFrame,
    evaluation: pl.DataFrame,
    window: TimeWindow,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """One target's candidate on the evaluation rows next to the oracle and the baselines: its
    rows for monitoring.model_evaluations and its markdown (with a reliability plot)."""
    version = version_behind_alias(model_name, CANDIDATE)
    model = load_model_by_alias(model_name, CANDIDATE, mlflow.sklearn.load_model)
    scores = predict_proba(model, evaluation)
    baseline = train_logistic_baseline(training, target)
    outcomes = evaluation[target].to_numpy()
    true_probabilities = evaluation[TRUE_PROBABILITY[target]].to_numpy()
    comparison = compare_with_oracle(
        outcomes,
        scores,
        true_probabilities,
        {
            "base_rate": base_rate_scores(training[target].to_numpy(), len(evaluation)),
            LOGISTIC_BASELINE_NAME: predict_proba(baseline, evaluation),
        },
        model_name=model_name,
        model_version=str(version),
        model_threshold=float(model.threshold),
        evaluation_window=window,
        baseline_thresholds={LOGISTIC_BASELINE_NAME: baseline.threshold},
        targets=SPECIFICATION_TARGETS,
    )
    png = reliability_plot_png(
        outcomes,
        {"model": scores, "oracle": true_probabilities},
        title=f"Reliability of {model_name} v{version}",
    )
    metadata: dict[str, Any] = {
        f"{target}_evaluation": dg.MetadataValue.md(
            comparison.markdown() + "\n\n" + png_markdown(png, f"{model_name} reliability")
        ),
        f"{target}_auc_fraction_of_oracle": comparison.auc_fraction_of_oracle,
        f"{target}_customer_targets": dg.MetadataValue.md(
            targets_markdown(comparison.value, SPECIFICATION_TARGETS)
        ),
    }
    return comparison.metrics, metadata


def _scorer(
    registry: ModelRegistry, model_name: str, column: str
) -> Callable[[str, pl.DataFrame], pl.DataFrame]:
    """Scores rows with one registered version: client_id, `column` and its version."""

    def score(version: str, part: pl.DataFrame) -> pl.DataFrame:
        model = registry.load_version(model_name, version, mlflow.sklearn.load_model)
        return part.select("client_id").with_columns(
            pl.Series(column, predict_proba(model, part)),
            pl.lit(version, dtype=pl.String).alias(f"{column}_model_version"),
        )

    return score


@dg.asset(
    key=ENGAGEMENT_SCORES,
    group_name="engagement",
    kinds={"python", "duckdb"},
    deps=[engagement_evaluation, dg.AssetKey(SCORING_TABLE.split("."))],
    ins={"subscriptions": dg.AssetIn(key=["staging", "stg_subscriptions"])},
    pool=WAREHOUSE_POOL,
)
def engagement_scores(
    context: dg.AssetExecutionContext,
    subscriptions: pl.DataFrame,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> pl.DataFrame:
    """For every active client, the champions' probability of opening, clicking and taking the
    action of an email sent now (features.feat_email_scoring: 10:00 local time on the day after
    the data's end, features rolled forward to that moment). Runs only after the open model's
    gate passed; each candidate that passed its own gate becomes `challenger` (and `champion`
    when its model has none). A column stays NULL while its model has no champion."""
    active = subscriptions.filter(pl.col("cancelled_date").is_null())["client_id"]
    with duckdb.get_connection() as con:
        rows = read_scoring_rows(con, active)
    scored = rows.select("client_id", "scoring_at")
    client = registry.client()
    for target, model_name in TARGETS.items():
        candidate = registry.version(model_name, CANDIDATE)
        with duckdb.get_connection() as con:
            decision = candidate_decision(con, model_name, candidate)
            passed = decision is not None and decision.passed
            plan = admitted_plan(con, client, model_name, candidate, passed, context.log)
        column = SCORE_COLUMNS[target]
        if plan.champion_version is None:
            scored = scored.with_columns(
                pl.lit(None, dtype=pl.Float64).alias(column),
                pl.lit(None, dtype=pl.String).alias(f"{column}_model_version"),
            )
            continue
        score = _scorer(registry, model_name, column)
        scored = scored.join(score_by_version(plan, rows, score), on="client_id", how="left")
    scored = scored.with_columns(
        pl.col("p_open_model_version").alias("model_version"),
        pl.lit(dt.datetime.now(dt.UTC).replace(tzinfo=None)).alias("scored_at"),
    )
    context.add_output_metadata(
        {
            "dagster/row_count": len(scored),
            "active_clients_without_scoring_row": active.len() - len(scored),
            **{
                f"mean_{column}": _mean_or_reason(scored[column])
                for column in SCORE_COLUMNS.values()
            },
        }
    )
    return scored


def _mean_or_reason(scores: pl.Series) -> dg.MetadataValue:
    if scores.null_count() == len(scores):
        return dg.MetadataValue.text("no champion yet")
    return dg.MetadataValue.float(float(scores.mean()))
