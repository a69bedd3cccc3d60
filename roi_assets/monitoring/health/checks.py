"""The alert thresholds as asset checks, next to the assets they judge.

Each check reads what its asset wrote and fails when a threshold is breached; the alerts asset
writes the same breaches to monitoring.alerts and acts on them. Thresholds come from the run's
config (`AlertThresholdsConfig`, the specification's values by default).
"""

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from roi_assets.catalog import DOCUMENT_CLASSIFIER_MODEL
from roi_assets.monitoring.drift.assets import feature_drift_report
from roi_assets.monitoring.drift.feature_drift import (
    MODEL_INPUTS,
    PREDICTION_PREFIX,
    latest_drift_rows,
)
from roi_assets.monitoring.health.alerts import (
    ERROR_RATE,
    LATENCY_INCREASE,
    accuracy_drop_alert,
    serving_alerts,
)
from roi_assets.monitoring.health.assets import (
    AlertThresholdsConfig,
    champion_health_report,
    serving_health,
)
from roi_assets.monitoring.health.champion_health import champion_health
from roi_assets.monitoring.health.serving_health import latest_serving_days, read_serving_health
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.tracking import CHAMPION


@dg.asset_check(asset=champion_health_report)
def champion_accuracy_within_threshold(
    config: AlertThresholdsConfig, duckdb: DuckDBResource, registry: ModelRegistry
) -> dg.AssetCheckResult:
    """Fails when a champion's AUC-ROC on its latest labelled window is more than the threshold
    (0.05) below its first evaluation."""
    thresholds = config.thresholds()
    lines, breached = [], []
    with duckdb.get_connection() as con:
        for model_name in [*MODEL_INPUTS, DOCUMENT_CLASSIFIER_MODEL]:
            version = registry.version(model_name, CHAMPION)
            health = champion_health(con, model_name, version) if version else None
            if health is None:
                continue
            lines.append(
                f"{model_name} v{version}: {health.reference_value:.3f} -> "
                f"{health.current_value:.3f} (drop {health.drop:+.3f})"
            )
            if accuracy_drop_alert(health, thresholds):
                breached.append(model_name)
    return dg.AssetCheckResult(
        passed=not breached,
        severity=dg.AssetCheckSeverity.ERROR,
        description=("\n".join(lines) if lines else "no champion evaluated on a second window yet"),
        metadata={"breached": ", ".join(breached) or "none"},
    )


def _serving_check(alert_type: str, config: AlertThresholdsConfig, duckdb: DuckDBResource):
    with duckdb.get_connection() as con:
        days = latest_serving_days(read_serving_health(con))
    if not days:
        return dg.AssetCheckResult(passed=True, description="no traffic")
    breaches = [
        alert
        for day in days
        for alert in serving_alerts(day, config.thresholds())
        if alert.alert_type == alert_type
    ]
    return dg.AssetCheckResult(
        passed=not breaches,
        description="\n".join(a.message for a in breaches) or f"{len(days)} model(s) within",
        metadata={"breached": ", ".join(a.model_name for a in breaches) or "none"},
    )


@dg.asset_check(asset=serving_health)
def serving_latency_within_threshold(
    config: AlertThresholdsConfig, duckdb: DuckDBResource
) -> dg.AssetCheckResult:
    """Fails when a model's median latency on its latest day exceeds its usual median by more
    than the threshold (100 ms); passes with "no traffic" before the API served anything."""
    return _serving_check(LATENCY_INCREASE, config, duckdb)


@dg.asset_check(asset=serving_health)
def serving_error_rate_within_threshold(
    config: AlertThresholdsConfig, duckdb: DuckDBResource
) -> dg.AssetCheckResult:
    """Fails when more than the threshold (1 %) of a model's requests on its latest day were
    answered with a 5xx status; passes with "no traffic" before the API served anything."""
    return _serving_check(ERROR_RATE, config, duckdb)


@dg.asset_check(asset=feature_drift_report)
def monitored_features_stable(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """Warns when a monitored feature drifted in the latest window (Evidently's verdict as
    written to monitoring.feature_drift)."""
    with duckdb.get_connection() as con:
        latest = latest_drift_rows(con)
    drifted = latest.filter(
        pl.col("drifted") & ~pl.col("feature").str.starts_with(PREDICTION_PREFIX)
    )
    features = sorted(set(drifted["feature"].to_list()))
    return dg.AssetCheckResult(
        passed=not features,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"drifted: {', '.join(features)}"
        if features
        else "no monitored feature drifted",
    )


monitoring_checks = [
    champion_accuracy_within_threshold,
    serving_latency_within_threshold,
    serving_error_rate_within_threshold,
    monitored_features_stable,
]
