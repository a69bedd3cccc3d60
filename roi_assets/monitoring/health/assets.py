"""Health assets: each champion (and the challenger being deployed) on its latest labelled
window, the serving API's health, and the alerts (with the rollback a critical one triggers on a
champion; a challenger's stops its deployment)."""

import datetime as dt
from functools import partial
from typing import Any

import dagster as dg
import duckdb
import mlflow.sklearn
import numpy as np
import polars as pl
from dagster_duckdb import DuckDBResource

from roi_assets import settings
from roi_assets.catalog import (
    CHURN_FEATURES,
    CHURN_WINDOWS_DAYS,
    CLIENT_DAILY,
    DOCUMENT_CLASSIFIER_MODEL,
    EMAIL_FEATURES,
    ENGAGEMENT_MODELS,
    churn_model_name,
)
from roi_assets.churn.daily_reads import sequences_for
from roi_assets.churn.features import label_column
from roi_assets.deployment.lifecycle import deployed_challenger
from roi_assets.deployment.rollback import roll_back_champion
from roi_assets.engagement.features import LABEL_COMPLETE
from roi_assets.engagement.model import predict_proba
from roi_assets.evaluation.model_evaluations import write_model_evaluations
from roi_assets.evaluation.windows import TimeWindow
from roi_assets.monitoring.drift.assets import document_drift_report, feature_drift_report
from roi_assets.monitoring.drift.feature_drift import (
    CHURN_INPUTS,
    EMAIL_INPUTS,
    MODEL_INPUTS,
    PREDICTION_PREFIX,
    compare_distributions,
    drift_rows,
    drift_windows,
    latest_drift_rows,
    markdown_table,
    write_feature_drift,
)
from roi_assets.monitoring.health.alerts import (
    ROLLBACK_TYPES,
    Alert,
    AlertThresholds,
    accuracy_drop_alert,
    alerts_frame,
    calibration_alert,
    drift_alerts,
    known_alert_ids,
    serving_alerts,
    write_alerts,
)
from roi_assets.monitoring.health.champion_health import (
    already_evaluated,
    champion_health,
    latest_labelled_window,
    too_small_to_judge,
    window_evaluation,
)
from roi_assets.monitoring.health.serving_health import (
    daily_serving_health,
    latest_serving_days,
    read_request_log,
    read_serving_health,
    write_serving_health,
)
from roi_assets.monitoring.reports import GROUP, SAFE_RETRY, utc_now
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.tracking import CHAMPION
from roi_assets.resources.warehouse import WAREHOUSE_POOL

SCORE_COLUMNS = {
    "opened_within_7d": "p_open",
    "clicked_within_7d": "p_click",
    "acted_within_7d": "p_action",
}


class AlertThresholdsConfig(dg.Config):
    """The specification's alert thresholds: accuracy (AUC-ROC) drop, increase of the median
    latency in ms, share of 5xx answers; and the decile calibration error of a champion."""

    accuracy_drop: float = AlertThresholds.accuracy_drop
    latency_increase_ms: float = AlertThresholds.latency_increase_ms
    error_rate: float = AlertThresholds.error_rate
    calibration_error: float = AlertThresholds.calibration_error

    def thresholds(self) -> AlertThresholds:
        return AlertThresholds(**self.model_dump())


def _watched_versions(con, model_name: str, champion: str) -> dict[str, str]:
    """The versions health evaluates, by metadata entry: the champion, and the challenger being
    deployed (its accuracy drop stops its deployment)."""
    watched = {model_name: champion}
    challenger = deployed_challenger(con, model_name)
    if challenger is not None and challenger != champion:
        watched[f"{model_name}_challenger"] = challenger
    return watched


def _engagement_health(
    email: pl.DataFrame, con, evaluated_at: dt.datetime, registry: ModelRegistry
) -> dict[str, Any]:
    """Engagement champions on the latest labelled sends, and their scores' drift."""
    metadata: dict[str, Any] = {}
    labelled = email.filter(pl.col(LABEL_COMPLETE))
    windows = drift_windows(email, EMAIL_INPUTS)
    for target, model_name in ENGAGEMENT_MODELS.items():
        version = registry.version(model_name, CHAMPION)
        if version is None:
            metadata[f"{model_name}"] = "no champion yet"
            continue
        rows = latest_labelled_window(labelled, EMAIL_INPUTS.time_column, target)
        watched = _watched_versions(con, model_name, version)
        models = {
            entry: registry.load_version(model_name, watched_version, mlflow.sklearn.load_model)
            for entry, watched_version in watched.items()
        }
        for entry, watched_version in watched.items():
            metadata[entry] = _evaluate_window(
                con,
                model_name,
                watched_version,
                rows,
                target,
                EMAIL_INPUTS.time_column,
                evaluated_at,
                scores=lambda frame, m=models[entry]: predict_proba(m, frame),
                threshold=float(models[entry].threshold),
            )
        model = models[model_name]
        score = f"{PREDICTION_PREFIX}{SCORE_COLUMNS[target]}"
        report = compare_distributions(
            pl.DataFrame({score: predict_proba(model, windows.reference)}),
            pl.DataFrame({score: predict_proba(model, windows.current)}),
            [score],
        )
        write_feature_drift(
            con,
            drift_rows(
                report,
                model_name=model_name,
                model_version=version,
                reference_window=windows.reference_window,
                current_window=windows.current_window,
                computed_at=evaluated_at,
            ),
        )
        metadata[f"{model_name}_prediction_drift"] = dg.MetadataValue.md(
            markdown_table(report.verdicts)
        )
    return metadata


def _churn_health(
    churn: pl.DataFrame,
    con,
    evaluated_at: dt.datetime,
    registry: ModelRegistry,
) -> dict[str, Any]:
    """Churn champions (the stacked ensemble) on the latest labelled snapshots of their window."""
    metadata: dict[str, Any] = {}
    for window in CHURN_WINDOWS_DAYS:
        model_name = churn_model_name(window)
        version = registry.version(model_name, CHAMPION)
        if version is None:
            metadata[model_name] = "no champion yet"
            continue
        rows = latest_labelled_window(churn, CHURN_INPUTS.time_column, label_column(window))
        for entry, watched_version in _watched_versions(con, model_name, version).items():
            metadata[entry] = _evaluate_window(
                con,
                model_name,
                watched_version,
                rows,
                label_column(window),
                CHURN_INPUTS.time_column,
                evaluated_at,
                scores=partial(_stack_scores, registry, model_name, watched_version, con),
                threshold=None,
            )
    return metadata


def _stack_scores(
    registry: ModelRegistry, model_name: str, version: str, con, frame: pl.DataFrame
) -> np.ndarray:
    """The churn version's stacked probabilities on `frame`. Loaded only when a window is to be
    judged: a weekly snapshot window is judged once, and the ensemble takes about a second to
    load."""
    ensemble = registry.load_version(model_name, version).unwrap_python_model().ensemble
    return ensemble.member_probabilities(frame, sequences_for(con, frame))["stack"]


def _evaluate_window(
    con, model_name, version, rows, label, time_column, evaluated_at, *, scores, threshold
) -> str:
    """Append the champion's metrics on `rows` unless the window is too small or already judged;
    returns what was done, for the metadata."""
    if rows.height == 0:
        return "no labelled rows"
    outcomes = rows[label].to_numpy().astype(np.int64)
    reason = too_small_to_judge(outcomes)
    window = TimeWindow.covering(rows[time_column])
    if reason is not None:
        return f"v{version}: window {window.label} not judged, {reason}"
    if already_evaluated(con, model_name, version, window):
        return f"v{version}: window {window.label} already evaluated"
    frame = window_evaluation(
        outcomes,
        scores(rows),
        threshold,
        model_name=model_name,
        model_version=version,
        window=window,
        evaluated_at=evaluated_at,
    )
    write_model_evaluations(con, frame)
    auc = frame.filter(pl.col("metric") == "auc_roc")["value"][0]
    return f"v{version}: AUC-ROC {auc:.3f} on {window.label} ({rows.height} rows)"


@dg.asset(
    key=["monitoring", "champion_health"],
    group_name=GROUP,
    kinds={"mlflow", "duckdb"},
    deps=[feature_drift_report, CLIENT_DAILY],
    ins={"email": dg.AssetIn(key=EMAIL_FEATURES), "churn": dg.AssetIn(key=CHURN_FEATURES)},
    pool=WAREHOUSE_POOL,
    retry_policy=SAFE_RETRY,
)
def champion_health_report(
    context: dg.AssetExecutionContext,
    email: pl.DataFrame,
    churn: pl.DataFrame,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> dg.MaterializeResult:
    """Concept drift: each engagement and churn champion scored on the latest labelled window
    (the last 28 days with known labels), appended to monitoring.model_evaluations; and the drift
    of the engagement champions' scores, training window against the latest 28 days, in
    monitoring.feature_drift (feature `prediction:p_open` / `prediction:p_click`)."""
    evaluated_at = utc_now()
    with duckdb.get_connection() as con:
        metadata = _engagement_health(email, con, evaluated_at, registry)
        metadata |= _churn_health(churn, con, evaluated_at, registry)
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=["monitoring", "serving_health"],
    group_name=GROUP,
    kinds={"python", "duckdb"},
    pool=WAREHOUSE_POOL,
    retry_policy=SAFE_RETRY,
)
def serving_health(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """Latency p50/p99, throughput (requests, peak per minute) and error rate (share of 5xx) per
    model version and day, from the serving API's request log (data/serving_log/requests-*.jsonl),
    upserted into monitoring.serving_health. No log yet: nothing is written."""
    requests = read_request_log(settings.serving_log_dir())
    if requests.height == 0:
        return dg.MaterializeResult(metadata={"dagster/row_count": 0, "traffic": "no traffic"})
    health = daily_serving_health(requests, utc_now())
    with duckdb.get_connection() as con:
        written = write_serving_health(con, health)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": written,
            "requests": requests.height,
            "preview": dg.MetadataValue.md(health.tail(20).to_pandas().to_markdown(index=False)),
        }
    )


@dg.asset(
    key=["monitoring", "alerts"],
    group_name=GROUP,
    kinds={"mlflow", "duckdb"},
    deps=[feature_drift_report, document_drift_report, champion_health_report, serving_health],
    pool=WAREHOUSE_POOL,
)
def model_alerts(
    context: dg.AssetExecutionContext,
    config: AlertThresholdsConfig,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> dg.MaterializeResult:
    """Breaches of the alert thresholds (accuracy drop 0.05, latency increase 100 ms, error rate
    0.01, decile calibration error 0.02) and critical drift, written once each to
    monitoring.alerts. A new critical accuracy
    drop or error rate rolls the model's `champion` back to `previous_champion`, recorded in the
    alert; without a previous champion the alert says so."""
    thresholds = config.thresholds()
    raised_at = utc_now()
    with duckdb.get_connection() as con:
        drift = latest_drift_rows(con)
        found = drift_alerts(drift) if drift.height else []
        champions = {}
        for model_name in [*MODEL_INPUTS, DOCUMENT_CLASSIFIER_MODEL]:
            champions[model_name] = registry.version(model_name, CHAMPION)
            found += _model_breaches(con, model_name, champions[model_name], thresholds)
        for day in latest_serving_days(read_serving_health(con)):
            found += serving_alerts(day, thresholds)
        seen = known_alert_ids(con, [a.alert_id for a in found])
        acted = [
            _rolled_back_if_due(context, alert, champions, registry)
            for alert in found
            if alert.alert_id not in seen
        ]
        frame = alerts_frame(acted, raised_at)
        written = write_alerts(con, frame) if acted else 0
    preview = frame.select("model_name", "alert_type", "severity", "observed", "message")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": written,
            "breaches_seen": len(found),
            "new_alerts": dg.MetadataValue.md(
                preview.to_pandas().to_markdown(index=False) if acted else "no new alert"
            ),
        }
    )


def _model_breaches(
    con: duckdb.DuckDBPyConnection,
    model_name: str,
    champion: str | None,
    thresholds: AlertThresholds,
) -> list[Alert]:
    """Accuracy drops of the champion and of a deployed challenger, and the champion's
    miscalibration."""
    found = []
    for watched in {champion, deployed_challenger(con, model_name)} - {None}:
        health = champion_health(con, model_name, watched)
        alert = accuracy_drop_alert(health, thresholds) if health else None
        found += [alert] if alert else []
    miscalibrated = calibration_alert(con, model_name, champion, thresholds) if champion else None
    return found + ([miscalibrated] if miscalibrated else [])


def _rolled_back_if_due(
    context: dg.AssetExecutionContext,
    alert: Alert,
    champions: dict[str, str | None],
    registry: ModelRegistry,
) -> Alert:
    """A new critical accuracy drop or error rate of a champion rolls it back; the alert records
    the rollback. A challenger's alert stops its deployment at the next rollout step instead."""
    on_champion = alert.model_version in (None, champions.get(alert.model_name))
    if not (alert.is_critical and alert.alert_type in ROLLBACK_TYPES and on_champion):
        return alert
    rollback = roll_back_champion(alert.model_name, alert.message, registry.client())
    context.log.warning("%s: %s", alert.model_name, rollback.note)
    return alert.with_rollback(rollback.rolled_back_from, rollback.rolled_back_to, rollback.note)
