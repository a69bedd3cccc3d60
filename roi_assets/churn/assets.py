"""Churn risk analyzer assets: train + register per window, evaluate against the oracle, score."""

import datetime as dt
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import mlflow.pyfunc
import numpy as np
import polars as pl
from dagster_duckdb import DuckDBResource
from mlflow import MlflowClient

from roi_assets.catalog import CHURN_FEATURES, CHURN_RISK, CLIENT_DAILY, SUBSCRIPTIONS
from roi_assets.churn.calibration import DEFAULT_METHOD
from roi_assets.churn.daily_reads import daily_rows_for, sequences_for
from roi_assets.churn.ensemble import STACK, UNCALIBRATED, ChurnEnsemble, registered_model_name
from roi_assets.churn.features import PREDICTION_WINDOWS
from roi_assets.churn.folds import InsufficientHistory
from roi_assets.churn.gate import MEMBERS, window_decision
from roi_assets.churn.plots import tier_distribution_png
from roi_assets.churn.pyfunc import (
    ARTIFACT_KEY,
    ChurnPyfuncModel,
    predict_frame,
    pyfunc_input_frame,
    pyfunc_requirements,
)
from roi_assets.churn.scoring import (
    latest_snapshot_rows,
    risk_rows,
    tier_distribution,
    tier_distribution_markdown,
)
from roi_assets.churn.splits import WindowSplit, sample_training_clients, split_window
from roi_assets.churn.training import TrainingBudget, train_window
from roi_assets.compiled_scoring import log_compiled
from roi_assets.deployment.lifecycle import (
    ServingPlan,
    admitted_plan,
    score_by_version,
)
from roi_assets.evaluation.calibration import decile_markdown, decile_metrics, decile_table
from roi_assets.evaluation.model_evaluations import evaluation_rows, write_model_evaluations
from roi_assets.evaluation.oracle_comparison import base_rate_scores
from roi_assets.evaluation.reliability import png_markdown, reliability_plot_png
from roi_assets.evaluation.risk_metrics import TARGETS as CHURN_TARGETS
from roi_assets.evaluation.risk_metrics import (
    UPPER_BOUND_TARGETS,
    ChurnRiskComparison,
    compare_churn_risk,
)
from roi_assets.evaluation.targets import targets_markdown
from roi_assets.evaluation.truth_tables import churn_probabilities
from roi_assets.evaluation.windows import TimeWindow
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.tracking import (
    CANDIDATE,
    load_model_by_alias,
    log_flavour_model,
    registered_version,
    set_alias,
    version_behind_alias,
)
from roi_assets.resources.warehouse import WAREHOUSE_POOL

KEYS = ("client_id", "snapshot_date")
FEATURES = CHURN_FEATURES
DAILY = CLIENT_DAILY
# The registry is read through the mlflow resource, which points MLflow at the product's store even
# when an asset is materialised on its own; dagster-mlflow's resource is a legacy one, so the
# warehouse then comes through `context.resources` as well.
REGISTRY_AND_WAREHOUSE = {"mlflow", "duckdb"}


class ChurnTrainingConfig(dg.Config):
    """Training budget per window (see `roi_assets.churn.training`; the defaults fit all three
    windows in about three minutes on 2 CPU cores at the default scale) and the evaluation boundary.

    - n_folds: out-of-fold blocks for the meta-learner (each costs one more forest and LSTM);
    - forest_n_estimators: trees per forest (the specification's 300);
    - lstm_max_epochs, lstm_patience, lstm_batch_size: the LSTM's epochs, early-stopping patience
      on the time-later validation slice, and mini-batch size;
    - lstm_max_train_rows: rows per LSTM fit (every churner kept, non-churners sampled);
    - boundary_purge_days: gap between training snapshots and the evaluation window; empty means
      the window itself, so no training label reaches into the evaluation period (see `splits.py`).
      Only worlds shorter than about three label windows need less, at the cost of a flattered
      evaluation;
    - calibration_method: `platt` (default) or `isotonic`, fitted on the latest out-of-fold
      block of the training rows (see `churn.ensemble` and `churn.calibration`);
    - max_training_clients: the training rows are every snapshot of at most this many clients
      drawn at random (`splits.sample_training_clients`): the default world's 2,000 are all used;
      at `large` the learning curve is flat long before its 100,000 (docs/benchmarks.md,
      `benchmarks/learning_curve.py`).
    """

    n_folds: int = TrainingBudget.n_folds
    forest_n_estimators: int = TrainingBudget.forest_n_estimators
    lstm_max_epochs: int = TrainingBudget.lstm_max_epochs
    lstm_patience: int = TrainingBudget.lstm_patience
    lstm_batch_size: int = TrainingBudget.lstm_batch_size
    lstm_max_train_rows: int = TrainingBudget.lstm_max_train_rows
    boundary_purge_days: int | None = None
    calibration_method: str = DEFAULT_METHOD
    max_training_clients: int = 5_000
    seed: int = TrainingBudget.seed

    def budget(self) -> TrainingBudget:
        return TrainingBudget(
            **self.model_dump(
                exclude={"boundary_purge_days", "calibration_method", "max_training_clients"}
            )
        )


def _calibration_window(ensemble: ChurnEnsemble) -> TimeWindow:
    """The snapshot dates of the out-of-fold block the ensemble's calibrator was fitted on."""
    return TimeWindow.covering(ensemble.calibration_dates_.astype(object).tolist())


def _log_and_register(
    tracking: Any, split: WindowSplit, ensemble: ChurnEnsemble, sequences: np.ndarray
) -> str:
    """Log the fitted ensemble to the active run (through dagster-mlflow's `tracking` resource)
    as a pyfunc model and register a new version."""
    training = split.training
    tracking.log_params(
        {
            "window_days": split.window_days,
            "training_rows": training.height,
            "training_clients": training["client_id"].n_unique(),
            "first_training_snapshot": str(training["snapshot_date"].min()),
            "last_training_snapshot": str(training["snapshot_date"].max()),
            "evaluation_window": split.evaluation_window.label,
            "boundary_purge_days": split.boundary_purge_days,
            "calibration_window": _calibration_window(ensemble).label,
            "calibration_rows": ensemble.calibrator_.rows,
            "calibration_method": ensemble.calibrator_.method,
            "oof_purge_days": ensemble.purge_days,
            "n_folds": len(ensemble.folds_),
            **{f"forest_{k}": v for k, v in ensemble.rf_params.items()},
            **{f"lstm_{k}": v for k, v in vars(ensemble.lstm_params).items()},
            "lstm_trained_in": ensemble.lstm_.trained_in,
        }
    )
    tracking.log_metrics(
        {
            "training_churn_rate": float(training[split.label].mean()),
            "calibration_churn_rate": ensemble.calibrator_.positives / ensemble.calibrator_.rows,
            "lstm_epochs_trained": ensemble.lstm_.epochs_trained,
            **{f"{step}_fit_seconds": seconds for step, seconds in ensemble.fit_seconds_.items()},
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        saved = ensemble.save(Path(folder) / "ensemble")
        info = log_flavour_model(
            mlflow.pyfunc.log_model,
            name="model",
            input_example=pyfunc_input_frame(training.head(5), sequences[:5]),
            predict=lambda frame: predict_frame(ensemble, frame),
            registered_model_name=registered_model_name(split.window_days),
            python_model=ChurnPyfuncModel(),
            artifacts={ARTIFACT_KEY: str(saved)},
            pip_requirements=pyfunc_requirements(),
        )
        log_compiled(info, ensemble)
    return registered_version(info)


@dg.asset(
    group_name="churn",
    kinds={"pytorch", "scikitlearn", "mlflow"},
    ins={"churn": dg.AssetIn(key=FEATURES)},
    deps=[DAILY],
    required_resource_keys=REGISTRY_AND_WAREHOUSE,
    pool=WAREHOUSE_POOL,
)
def churn_model(
    context: dg.AssetExecutionContext, config: ChurnTrainingConfig, churn: pl.DataFrame
) -> dg.MaterializeResult:
    """Per prediction window (30, 60, 90 days): a random forest and an LSTM stacked by a logistic
    regression on their out-of-fold scores, trained on the labelled snapshots whose label window
    closed before the evaluation window; logged to MLflow and registered as a new `candidate`
    version of roi-churn-30d / -60d / -90d. A window whose history is too short is skipped and
    says why."""
    tracking = context.resources.mlflow
    duckdb: DuckDBResource = context.resources.duckdb
    metadata: dict[str, Any] = {}
    # The warehouse returns rows in no fixed order, and the forest's bootstrap samples are drawn by
    # row position: without a fixed order the same seed trains a different model on every run.
    churn = churn.sort("client_id", "snapshot_date")
    for window in PREDICTION_WINDOWS:
        model_name = registered_model_name(window)
        try:
            split = sample_training_clients(
                split_window(churn, window, boundary_purge_days=config.boundary_purge_days),
                config.max_training_clients,
                config.seed,
            )
            with duckdb.get_connection() as con:
                daily = daily_rows_for(con, split.training)
            ensemble, sequences = train_window(
                split, daily, config.budget(), config.calibration_method
            )
        except InsufficientHistory as too_short:
            context.log.warning("%s not trained: %s", model_name, too_short)
            metadata[f"{window}d_not_trained"] = str(too_short)
            continue
        with tracking.start_run(run_name=model_name, nested=True):
            version = _log_and_register(tracking, split, ensemble, sequences)
        set_alias(model_name, CANDIDATE, version)
        context.log.info("%s: registered version %s", model_name, version)
        metadata.update(_trained_window_metadata(f"{window}d", version, split, ensemble))
    if not any(key.endswith("_version") for key in metadata):
        raise dg.Failure("no churn window could be trained", metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)


def _trained_window_metadata(
    prefix: str, version: str, split: WindowSplit, ensemble: ChurnEnsemble
) -> dict[str, Any]:
    """What a window's training registered and how: rows, purges, calibration, fit times."""
    calibrator = ensemble.calibrator_
    return {
        f"{prefix}_version": version,
        f"{prefix}_training_rows": split.training.height,
        f"{prefix}_purge_days": (
            f"evaluation boundary {split.boundary_purge_days}, out-of-fold {ensemble.purge_days}"
        ),
        f"{prefix}_calibration": (
            f"{calibrator.method} on the out-of-fold block "
            f"{_calibration_window(ensemble).label} ({calibrator.rows} rows, "
            f"{calibrator.positives} churners)"
        ),
        f"{prefix}_fit_seconds": {
            step: round(seconds, 1) for step, seconds in ensemble.fit_seconds_.items()
        },
    }


def _decile_rows(comparison: Any, table: pl.DataFrame, prefix: str) -> pl.DataFrame:
    return evaluation_rows(
        decile_metrics(table, prefix),
        model_name=comparison.model_name,
        model_version=comparison.model_version,
        evaluated_at=comparison.evaluated_at,
        evaluation_window=comparison.evaluation_window,
    )


def _candidate_run_values(model_name: str, version: str) -> tuple[dict[str, str], dict[str, float]]:
    """Params and metrics of the MLflow run that logged a registered version."""
    client = MlflowClient()
    run = client.get_run(client.get_model_version(model_name, version).run_id)
    return run.data.params, run.data.metrics


def _load_ensemble(model_name: str, alias: str) -> ChurnEnsemble:
    return load_model_by_alias(model_name, alias).unwrap_python_model().ensemble


@dg.asset(
    group_name="churn",
    kinds={"python", "duckdb"},
    deps=[churn_model, DAILY],
    ins={"churn": dg.AssetIn(key=FEATURES)},
    required_resource_keys=REGISTRY_AND_WAREHOUSE,
    pool=WAREHOUSE_POOL,
)
def churn_evaluation(
    context: dg.AssetExecutionContext, churn: pl.DataFrame
) -> dg.MaterializeResult:
    """Each window's candidate on the latest labelled snapshots it never saw: AUC-ROC, precision
    at the high tier, alert accuracy, false-positive rate, calibration error (per decile) and the
    clients in each tier, of the calibrated stack, the stack before calibration, the forest alone
    and the LSTM alone, next to the oracle (true churn probabilities of the same client × snapshot
    rows: its tier counts are the truth's), the training base rate and the specification's
    targets; observed against predicted per decile; written to monitoring.model_evaluations."""
    duckdb: DuckDBResource = context.resources.duckdb
    metadata: dict[str, Any] = {}
    frames = []
    for window in PREDICTION_WINDOWS:
        model_name = registered_model_name(window)
        version = version_behind_alias(model_name, CANDIDATE)
        if version is None:
            context.log.warning("%s has no candidate to evaluate", model_name)
            continue
        window_frames, window_metadata = _evaluate_window(duckdb, churn, window, version)
        frames += window_frames
        metadata |= window_metadata
    with duckdb.get_connection() as con:
        written = sum(write_model_evaluations(con, frame) for frame in frames)
    context.log.info("wrote %d evaluation rows", written)
    return dg.MaterializeResult(metadata=metadata)


def _evaluate_window(
    duckdb: DuckDBResource, churn: pl.DataFrame, window: int, version: str
) -> tuple[list[pl.DataFrame], dict[str, Any]]:
    """One window's candidate on the evaluation snapshots of the split it was trained for: the
    rows for monitoring.model_evaluations and the materialisation's metadata."""
    model_name = registered_model_name(window)
    params, metrics = _candidate_run_values(model_name, version)
    split = split_window(churn, window, boundary_purge_days=int(params["boundary_purge_days"]))
    if split.evaluation_window.label != params["evaluation_window"]:
        raise dg.Failure(
            f"{model_name} v{version} was trained for the evaluation window "
            f"{params['evaluation_window']}, but the features now give "
            f"{split.evaluation_window.label}: retrain before evaluating"
        )
    with duckdb.get_connection() as con:
        truth = churn_probabilities(con, window)
        rows = split.evaluation.join(truth, on=KEYS, how="inner")
        sequences = sequences_for(con, rows)
    scores = _load_ensemble(model_name, CANDIDATE).member_probabilities(rows, sequences)
    oracle = rows["p_churn"].to_numpy()
    outcomes = rows[split.label].to_numpy()
    comparison = compare_churn_risk(
        outcomes,
        {**scores, "base_rate": base_rate_scores([metrics["training_churn_rate"]], rows.height)},
        oracle,
        model=STACK,
        members=MEMBERS,
        model_name=model_name,
        model_version=version,
        evaluation_window=split.evaluation_window,
    )
    deciles = {name: decile_table(outcomes, scores[name], oracle) for name in (STACK, UNCALIBRATED)}
    frames = [
        comparison.evaluation_rows(),
        _decile_rows(comparison, deciles[STACK], ""),
        _decile_rows(comparison, deciles[UNCALIBRATED], f"{UNCALIBRATED}_"),
    ]
    png = reliability_plot_png(
        outcomes,
        {STACK: scores[STACK], UNCALIBRATED: scores[UNCALIBRATED], "oracle": oracle},
        title=f"Reliability of {model_name} v{version}",
    )
    return frames, _window_metadata(window, params, comparison, deciles, png, rows.height)


def _window_metadata(
    window: int,
    params: dict[str, str],
    comparison: ChurnRiskComparison,
    deciles: dict[str, pl.DataFrame],
    reliability_png: bytes,
    n_rows: int,
) -> dict[str, Any]:
    """The evaluation of one window as the materialisation shows it: the comparison with its
    deciles and reliability plot, the customer's targets, and three headline figures."""
    calibration = (
        f"{params.get('calibration_method', 'no')} calibration on "
        f"{params.get('calibration_window', 'no window')}"
    )
    return {
        f"{window}d_evaluation": dg.MetadataValue.md(
            comparison.markdown()
            + f"\n\nObserved against predicted per decile ({calibration}; the true mean in "
            + "brackets):\n\n"
            + decile_markdown(deciles)
            + "\n\n"
            + png_markdown(reliability_png, f"{registered_model_name(window)} reliability")
        ),
        f"{window}d_customer_targets": dg.MetadataValue.md(
            targets_markdown(comparison.value, CHURN_TARGETS, UPPER_BOUND_TARGETS)
        ),
        f"{window}d_evaluation_rows": n_rows,
        f"{window}d_auc_fraction_of_oracle": comparison.value("auc_roc_of_oracle"),
        f"{window}d_calibration_error": (
            f"{comparison.value('decile_calibration_error'):.4f} calibrated, "
            f"{comparison.value('decile_calibration_error', UNCALIBRATED):.4f} before, "
            f"{comparison.value('decile_calibration_error', 'oracle'):.4f} oracle"
        ),
    }


@dg.asset(
    key=CHURN_RISK,
    group_name="churn",
    kinds={"python", "duckdb"},
    deps=[churn_evaluation, DAILY],
    ins={"churn": dg.AssetIn(key=FEATURES), "subscriptions": dg.AssetIn(key=SUBSCRIPTIONS)},
    pool=WAREHOUSE_POOL,
    output_required=False,
)
def churn_risk(
    context: dg.AssetExecutionContext,
    churn: pl.DataFrame,
    subscriptions: pl.DataFrame,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> Iterator[dg.Output[pl.DataFrame]]:
    """For every active client and window: the champion's churn probability on the client's latest
    snapshot, its risk tier, whether it is on the window's watch list (its riskiest 3 %), and
    from the medium tier up or on the watch list the top reasons (the forest's SHAP contributions
    in words) and a recommended retention action. Runs only after the 30-day gate
    passed; each window's candidate that passed its own gate becomes `challenger` (and `champion`
    when the window has none), and a window without a champion is left out. While no window
    has one (no gate has let a version through yet) the mart is not materialised, as when its
    gate blocks it, and what reads it is skipped."""
    active = subscriptions.filter(pl.col("cancelled_date").is_null())["client_id"]
    rows = latest_snapshot_rows(churn, active)
    scored_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    frames = []
    for window in PREDICTION_WINDOWS:
        model_name = registered_model_name(window)
        plan = _admitted_plan(context, registry, duckdb, model_name)
        if plan.champion_version is None:
            context.log.warning("%s has no champion yet: the window is left out", model_name)
            continue
        score = _window_scorer(registry, duckdb, model_name, scored_at)
        frames.append(score_by_version(plan, rows, score))
    if not frames:
        context.log.warning("no churn window has a champion to score with: nothing published")
        return
    risk = pl.concat(frames)
    yield dg.Output(
        risk,
        metadata={
            "dagster/row_count": risk.height,
            "active_clients": active.len(),
            "active_clients_without_features": active.len() - rows.height,
            "tier_distribution": dg.MetadataValue.md(
                tier_distribution_markdown(tier_distribution(risk))
            ),
            "tier_plot": dg.MetadataValue.md(
                png_markdown(tier_distribution_png(tier_distribution(risk)), "clients per tier")
            ),
            "clients_on_watch_list": int(risk["on_watch_list"].sum()),
            "clients_with_reasons": int(risk["top_reasons"].is_not_null().sum()),
        },
    )


def _admitted_plan(
    context: dg.AssetExecutionContext,
    registry: ModelRegistry,
    duckdb: DuckDBResource,
    model_name: str,
) -> ServingPlan:
    """Apply the window's gate decision to its candidate's aliases, then read today's plan."""
    candidate = registry.version(model_name, CANDIDATE)
    with duckdb.get_connection() as con:
        decision = window_decision(con, model_name, candidate, MEMBERS)
        passed = decision is not None and decision.passed
        return admitted_plan(con, registry.client(), model_name, candidate, passed, context.log)


def _window_scorer(
    registry: ModelRegistry, duckdb: DuckDBResource, model_name: str, scored_at: dt.datetime
) -> Callable[[str, pl.DataFrame], pl.DataFrame]:
    """Risk rows of one window's registered version for a part of the clients."""

    def score(version: str, part: pl.DataFrame) -> pl.DataFrame:
        ensemble = registry.load_version(model_name, version).unwrap_python_model().ensemble
        with duckdb.get_connection() as con:
            sequences = sequences_for(con, part)
        return risk_rows(ensemble, part, sequences, model_version=version, scored_at=scored_at)

    return score
