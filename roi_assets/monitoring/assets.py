"""Monitoring assets: feature and prediction drift, champion health, serving health, alerts."""

import datetime as dt
from typing import Any

import dagster as dg
import mlflow.sklearn
import numpy as np
import polars as pl
from dagster_duckdb import DuckDBResource

from roi_assets import settings
from roi_assets.churn.ensemble import registered_model_name
from roi_assets.churn.features import PREDICTION_WINDOWS, build_sequences, label_column
from roi_assets.documents.assets import HELD_OUT_FRACTION, SPLIT_SEED, use_product_registry
from roi_assets.documents.image_features import torch_threads
from roi_assets.documents.labelled_corpus import classifier_inputs, held_out_split
from roi_assets.engagement.features import LABEL_COMPLETE
from roi_assets.engagement.model import predict_proba
from roi_assets.evaluation.model_evaluations import write_model_evaluations
from roi_assets.evaluation.windows import TimeWindow
from roi_assets.monitoring.alerts import (
    ROLLBACK_TYPES,
    AlertThresholds,
    accuracy_drop_alert,
    alerts_frame,
    calibration_alert,
    drift_alerts,
    known_alert_ids,
    serving_alerts,
    write_alerts,
)
from roi_assets.monitoring.document_drift import (
    MIN_DOCUMENTS,
    current_documents,
    document_drift,
    read_classified,
    too_few_documents,
)
from roi_assets.monitoring.drift import (
    CHURN_INPUTS,
    EMAIL_INPUTS,
    MODEL_INPUTS,
    PREDICTION_PREFIX,
    compare_distributions,
    drift_rows,
    drift_windows,
    feature_drift,
    latest_drift_rows,
    markdown_table,
    write_feature_drift,
)
from roi_assets.monitoring.health import (
    already_evaluated,
    champion_health,
    latest_labelled_window,
    too_small_to_judge,
    window_evaluation,
)
from roi_assets.monitoring.rollback import roll_back_champion
from roi_assets.monitoring.serving_health import (
    daily_serving_health,
    latest_serving_days,
    read_request_log,
    read_serving_health,
    write_serving_health,
)
from roi_assets.resources.tracking import CHAMPION, load_model_by_alias, version_behind_alias
from roi_assets.resources.warehouse import WAREHOUSE_POOL

GROUP = "monitoring"
EMAIL_FEATURES = dg.AssetKey(["features", "feat_email_engagement"])
CHURN_FEATURES = dg.AssetKey(["features", "feat_client_churn"])
DAILY = dg.AssetKey(["features", "feat_client_daily"])
LABELLED_DOCUMENTS = dg.AssetKey(["raw", "labelled_documents"])
DOCUMENT_CLASSIFICATIONS = dg.AssetKey(["marts", "document_classifications"])
ENGAGEMENT_TARGETS = {
    "opened_within_7d": "roi-engagement-open",
    "clicked_within_7d": "roi-engagement-click",
    "acted_within_7d": "roi-engagement-action",
}
SCORE_COLUMNS = {
    "opened_within_7d": "p_open",
    "clicked_within_7d": "p_click",
    "acted_within_7d": "p_action",
}
DOCUMENT_CLASSIFIER = "roi-document-classifier"
# Reading the registry and local files can fail for a moment (a locked sqlite store, a log file
# being rotated); these assets upsert keyed rows, so running them again is harmless.
SAFE_RETRY = dg.RetryPolicy(max_retries=2, delay=15, backoff=dg.Backoff.EXPONENTIAL)


class AlertThresholdsConfig(dg.Config):
    """The specification's alert thresholds: accuracy (AUC-ROC) drop, increase of the median
    latency in ms, share of 5xx answers; and the decile calibration error of a champion."""

    accuracy_drop: float = AlertThresholds.accuracy_drop
    latency_increase_ms: float = AlertThresholds.latency_increase_ms
    error_rate: float = AlertThresholds.error_rate
    calibration_error: float = AlertThresholds.calibration_error

    def thresholds(self) -> AlertThresholds:
        return AlertThresholds(**self.model_dump())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _report_path(name: str):
    return settings.artifacts_dir() / "monitoring" / f"{name}.html"


@dg.asset(
    key=["monitoring", "feature_drift"],
    group_name=GROUP,
    kinds={"evidently", "duckdb"},
    ins={"email": dg.AssetIn(key=EMAIL_FEATURES), "churn": dg.AssetIn(key=CHURN_FEATURES)},
    pool=WAREHOUSE_POOL,
    retry_policy=SAFE_RETRY,
)
def feature_drift_report(
    context: dg.AssetExecutionContext,
    email: pl.DataFrame,
    churn: pl.DataFrame,
    duckdb: DuckDBResource,
) -> dg.MaterializeResult:
    """Evidently drift of each model's stationary input features, training window against the
    latest 28 days (normed Wasserstein for numbers, Jensen-Shannon for categories, threshold 0.1):
    one row per model and feature in monitoring.feature_drift, and an HTML report per table."""
    computed_at = _now()
    metadata: dict[str, Any] = {}
    frames = []
    for frame, inputs in ((email, EMAIL_INPUTS), (churn, CHURN_INPUTS)):
        report, windows = feature_drift(frame, inputs)
        name = inputs.table.split(".")[-1]
        path = report.save_html(_report_path(f"feature_drift_{name}"))
        for model_name, model_inputs in MODEL_INPUTS.items():
            if model_inputs is inputs:
                frames.append(
                    drift_rows(
                        report,
                        model_name=model_name,
                        model_version=version_behind_alias(model_name, CHAMPION),
                        reference_window=windows.reference_window,
                        current_window=windows.current_window,
                        computed_at=computed_at,
                    )
                )
        metadata[f"{name}_report"] = dg.MetadataValue.path(str(path))
        metadata[f"{name}_drift"] = dg.MetadataValue.md(
            f"reference {windows.reference_window} ({windows.reference.height} rows), current "
            f"{windows.current_window} ({windows.current.height} rows)\n\n"
            + markdown_table(report.verdicts)
        )
        metadata[f"{name}_drifted_features"] = len(report.drifted_features)
    with duckdb.get_connection() as con:
        written = sum(write_feature_drift(con, rows) for rows in frames)
    metadata["dagster/row_count"] = written
    return dg.MaterializeResult(metadata=metadata)


def _held_out_confidence(corpus: pl.DataFrame) -> list[float] | None:
    """The champion's confidence on the archive's held-out documents; None when they are too few
    to compare (the classifier is then not even loaded)."""
    _, held_out = held_out_split(corpus, HELD_OUT_FRACTION, SPLIT_SEED)
    if held_out.height < MIN_DOCUMENTS:
        return None
    classifier = load_model_by_alias(DOCUMENT_CLASSIFIER, CHAMPION).unwrap_python_model().classifier
    texts, thumbnails, _ = classifier_inputs(held_out)
    with torch_threads(1):
        _, confidence = classifier.predict(texts, thumbnails)
    return confidence.tolist()


@dg.asset(
    key=["monitoring", "document_drift"],
    group_name=GROUP,
    kinds={"evidently", "duckdb"},
    ins={"corpus": dg.AssetIn(key=LABELLED_DOCUMENTS)},
    deps=[DOCUMENT_CLASSIFICATIONS],
    pool=WAREHOUSE_POOL,
    retry_policy=SAFE_RETRY,
)
def document_drift_report(
    context: dg.AssetExecutionContext, corpus: pl.DataFrame, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """Drift of the documents the classifier's champion read lately (quality score, OCR
    confidence, page count, and its own confidence) against the labelled archive it learnt from,
    in monitoring.feature_drift. Documents are classified by per-document runs, so on a first
    refresh there may be none yet: then, as without champion, nothing is written."""
    use_product_registry()
    version = version_behind_alias(DOCUMENT_CLASSIFIER, CHAMPION)
    if version is None:
        return dg.MaterializeResult(
            metadata={"dagster/row_count": 0, "skipped": f"{DOCUMENT_CLASSIFIER} has no champion"}
        )
    with duckdb.get_connection() as con:
        current = current_documents(read_classified(con), version)
    reason = too_few_documents(corpus.height, current.height)
    if reason is not None:
        return dg.MaterializeResult(metadata={"dagster/row_count": 0, "skipped": reason})
    held_out_confidence = _held_out_confidence(corpus)
    drift = document_drift(corpus, current, held_out_confidence)
    path = drift.inputs.save_html(_report_path("document_drift"))
    rows = drift.rows(version, _now())
    with duckdb.get_connection() as con:
        written = write_feature_drift(con, rows)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": written,
            "champion_version": version,
            "report": dg.MetadataValue.path(str(path)),
            "drift": dg.MetadataValue.md(
                f"reference {drift.reference_window}, current {drift.current_window} "
                f"({drift.current_documents} documents)\n\n" + markdown_table(drift.verdicts)
            ),
            "confidence": "compared"
            if drift.confidence
            else f"not compared: fewer than {MIN_DOCUMENTS} held-out archive documents",
            "drifted_features": len(drift.drifted_features),
        }
    )


def _engagement_health(email: pl.DataFrame, con, evaluated_at: dt.datetime) -> dict[str, Any]:
    """Engagement champions on the latest labelled sends, and their scores' drift."""
    metadata: dict[str, Any] = {}
    labelled = email.filter(pl.col(LABEL_COMPLETE))
    windows = drift_windows(email, EMAIL_INPUTS)
    for target, model_name in ENGAGEMENT_TARGETS.items():
        version = version_behind_alias(model_name, CHAMPION)
        if version is None:
            metadata[f"{model_name}"] = "no champion yet"
            continue
        model = load_model_by_alias(model_name, CHAMPION, mlflow.sklearn.load_model)
        rows = latest_labelled_window(labelled, EMAIL_INPUTS.time_column, target)
        metadata[model_name] = _evaluate_window(
            con,
            model_name,
            version,
            rows,
            target,
            EMAIL_INPUTS.time_column,
            evaluated_at,
            scores=lambda frame, m=model: predict_proba(m, frame),
            threshold=float(model.threshold),
        )
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
    churn: pl.DataFrame, daily: pl.DataFrame, con, evaluated_at: dt.datetime
) -> dict[str, Any]:
    """Churn champions (the stacked ensemble) on the latest labelled snapshots of their window."""
    metadata: dict[str, Any] = {}
    for window in PREDICTION_WINDOWS:
        model_name = registered_model_name(window)
        version = version_behind_alias(model_name, CHAMPION)
        if version is None:
            metadata[model_name] = "no champion yet"
            continue
        ensemble = load_model_by_alias(model_name, CHAMPION).unwrap_python_model().ensemble
        rows = latest_labelled_window(churn, CHURN_INPUTS.time_column, label_column(window))
        metadata[model_name] = _evaluate_window(
            con,
            model_name,
            version,
            rows,
            label_column(window),
            CHURN_INPUTS.time_column,
            evaluated_at,
            scores=lambda frame, ensemble=ensemble: ensemble.member_probabilities(
                frame, build_sequences(daily, frame)
            )["stack"],
            threshold=None,
        )
    return metadata


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
    deps=[feature_drift_report],
    ins={
        "email": dg.AssetIn(key=EMAIL_FEATURES),
        "churn": dg.AssetIn(key=CHURN_FEATURES),
        "daily": dg.AssetIn(key=DAILY),
    },
    pool=WAREHOUSE_POOL,
    retry_policy=SAFE_RETRY,
)
def champion_health_report(
    context: dg.AssetExecutionContext,
    email: pl.DataFrame,
    churn: pl.DataFrame,
    daily: pl.DataFrame,
    duckdb: DuckDBResource,
) -> dg.MaterializeResult:
    """Concept drift: each engagement and churn champion scored on the latest labelled window
    (the last 28 days with known labels), appended to monitoring.model_evaluations; and the drift
    of the engagement champions' scores, training window against the latest 28 days, in
    monitoring.feature_drift (feature `prediction:p_open` / `prediction:p_click`)."""
    evaluated_at = _now()
    with duckdb.get_connection() as con:
        metadata = _engagement_health(email, con, evaluated_at)
        metadata |= _churn_health(churn, daily, con, evaluated_at)
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
    health = daily_serving_health(requests, _now())
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
    context: dg.AssetExecutionContext, config: AlertThresholdsConfig, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """Breaches of the alert thresholds (accuracy drop 0.05, latency increase 100 ms, error rate
    0.01, decile calibration error 0.02) and critical drift, written once each to
    monitoring.alerts. A new critical accuracy
    drop or error rate rolls the model's `champion` back to `previous_champion`, recorded in the
    alert; without a previous champion the alert says so."""
    thresholds = config.thresholds()
    raised_at = _now()
    with duckdb.get_connection() as con:
        drift = latest_drift_rows(con)
        found = drift_alerts(drift) if drift.height else []
        for model_name in [*MODEL_INPUTS, DOCUMENT_CLASSIFIER]:
            version = version_behind_alias(model_name, CHAMPION)
            health = champion_health(con, model_name, version) if version else None
            alert = accuracy_drop_alert(health, thresholds) if health else None
            found += [alert] if alert else []
            miscalibrated = (
                calibration_alert(con, model_name, version, thresholds) if version else None
            )
            found += [miscalibrated] if miscalibrated else []
        for day in latest_serving_days(read_serving_health(con)):
            found += serving_alerts(day, thresholds)
        seen = known_alert_ids(con, [a.alert_id for a in found])
        new = [a for a in found if a.alert_id not in seen]
        acted = []
        for alert in new:
            if alert.is_critical and alert.alert_type in ROLLBACK_TYPES:
                rollback = roll_back_champion(alert.model_name, alert.message)
                context.log.warning("%s: %s", alert.model_name, rollback.note)
                alert = alert.with_rollback(
                    rollback.rolled_back_from, rollback.rolled_back_to, rollback.note
                )
            acted.append(alert)
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
