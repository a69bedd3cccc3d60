"""`monitoring.alerts`: what went wrong, how badly, when, with which model, and what was done.

Columns (the deployment side reads them): alert_id (primary key), raised_at (UTC), model_name,
model_version, alert_type ('accuracy_drop' | 'latency_increase' | 'error_rate' | 'feature_drift' |
'prediction_drift' | 'calibration_error'), severity ('warning' | 'critical'), observed, threshold,
message, rolled_back_from, rolled_back_to (NULL unless the alert rolled the champion back).

An alert's id is derived from (model_name, alert_type, window), so the same breach seen by a re-run
is the same row: writing it again changes nothing, and its first raised_at and rollback stay.

Thresholds are the specification's (accuracy drop 0.05, latency increase 100 ms, error rate 0.01).
Severity: an accuracy drop or an error rate over its threshold is critical (the champion is rolled
back); a latency increase is a warning, critical from twice the threshold; drift (of features or of
scores) is a warning, critical when a distance reaches twice the drift threshold, which is what
launches a retrain. A champion whose probabilities stopped meaning what they say (decile
calibration error of its latest evaluated window above 0.02) is a warning, critical from twice
that; it rolls nothing back (the ranking may be fine), it tells whoever reads the tiers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace

import duckdb
import polars as pl

from roi_assets.monitoring.drift.feature_drift import PREDICTION_PREFIX
from roi_assets.monitoring.health.champion_health import ChampionHealth
from roi_assets.monitoring.health.serving_health import ServingDay
from roi_assets.resources.table_contracts import create_statement
from roi_assets.resources.warehouse import upsert_rows

TABLE = "monitoring.alerts"
ACCURACY_DROP = "accuracy_drop"
LATENCY_INCREASE = "latency_increase"
ERROR_RATE = "error_rate"
FEATURE_DRIFT = "feature_drift"
PREDICTION_DRIFT = "prediction_drift"
CALIBRATION_ERROR = "calibration_error"
CALIBRATION_METRIC = "decile_calibration_error"
DRIFT_TYPES = (FEATURE_DRIFT, PREDICTION_DRIFT)
ROLLBACK_TYPES = (ACCURACY_DROP, ERROR_RATE)
WARNING = "warning"
CRITICAL = "critical"
CRITICAL_DRIFT_FACTOR = 2.0
CRITICAL_LATENCY_FACTOR = 2.0
CRITICAL_CALIBRATION_FACTOR = 2.0
_ALERT_NAMESPACE = uuid.UUID("6f1d4c2e-8a57-4d0b-9a43-2f0c5e7b9d11")

SCHEMA: dict[str, pl.DataType] = {
    "alert_id": pl.String(),
    "raised_at": pl.Datetime("us"),
    "model_name": pl.String(),
    "model_version": pl.String(),
    "alert_type": pl.String(),
    "severity": pl.String(),
    "observed": pl.Float64(),
    "threshold": pl.Float64(),
    "message": pl.String(),
    "rolled_back_from": pl.String(),
    "rolled_back_to": pl.String(),
}
DDL = create_statement(TABLE)


@dataclass(frozen=True)
class AlertThresholds:
    """The specification's alert thresholds; drift thresholds belong to the drift methods. The
    calibration error's is the product's: two points of probability on average over the deciles,
    about four times the sampling noise of a 28-day churn window at the default scale."""

    accuracy_drop: float = 0.05
    latency_increase_ms: float = 100.0
    error_rate: float = 0.01
    calibration_error: float = 0.02


@dataclass(frozen=True)
class Alert:
    """One breach; `window` names what was judged (an evaluation window, a day, a drift window)."""

    model_name: str
    model_version: str | None
    alert_type: str
    severity: str
    observed: float
    threshold: float
    message: str
    window: str
    rolled_back_from: str | None = None
    rolled_back_to: str | None = None

    @property
    def alert_id(self) -> str:
        return alert_id(self.model_name, self.alert_type, self.window)

    @property
    def is_critical(self) -> bool:
        return self.severity == CRITICAL

    def with_rollback(self, rolled_back_from: str | None, rolled_back_to: str | None, note: str):
        return replace(
            self,
            rolled_back_from=rolled_back_from,
            rolled_back_to=rolled_back_to,
            message=f"{self.message}; {note}",
        )


def alert_id(model_name: str, alert_type: str, window: str) -> str:
    return str(uuid.uuid5(_ALERT_NAMESPACE, f"{model_name}|{alert_type}|{window}"))


def accuracy_drop_alert(health: ChampionHealth, thresholds: AlertThresholds) -> Alert | None:
    if health.drop <= thresholds.accuracy_drop:
        return None
    return Alert(
        model_name=health.model_name,
        model_version=health.model_version,
        alert_type=ACCURACY_DROP,
        severity=CRITICAL,
        observed=health.drop,
        threshold=thresholds.accuracy_drop,
        message=(
            f"{health.metric} of v{health.model_version} fell from {health.reference_value:.3f} "
            f"({health.reference_window}) to {health.current_value:.3f} ({health.current_window})"
        ),
        window=health.current_window,
    )


def calibration_alert(
    con: duckdb.DuckDBPyConnection,
    model_name: str,
    model_version: str,
    thresholds: AlertThresholds,
) -> Alert | None:
    """The version's decile calibration error on its latest evaluated window (the gate's
    evaluation, then champion health's windows), when above the threshold."""
    if not _table_exists(con, "model_evaluations"):
        return None
    latest = con.execute(
        "select value, evaluation_window from monitoring.model_evaluations "
        "where model_name = ? and model_version = ? and metric = ? and value is not null "
        "order by split_part(evaluation_window, '/', 2) desc, evaluated_at desc limit 1",
        [model_name, str(model_version), CALIBRATION_METRIC],
    ).fetchone()
    if latest is None or latest[0] <= thresholds.calibration_error:
        return None
    observed, window = latest
    severity = (
        CRITICAL
        if observed >= CRITICAL_CALIBRATION_FACTOR * thresholds.calibration_error
        else WARNING
    )
    return Alert(
        model_name=model_name,
        model_version=str(model_version),
        alert_type=CALIBRATION_ERROR,
        severity=severity,
        observed=observed,
        threshold=thresholds.calibration_error,
        message=(
            f"probabilities of v{model_version} are off by {observed:.3f} on average over the "
            f"deciles of {window}: observed rates no longer match them"
        ),
        window=window,
    )


def serving_alerts(day: ServingDay, thresholds: AlertThresholds) -> list[Alert]:
    found = []
    increase = day.latency_increase_ms
    if increase is not None and increase > thresholds.latency_increase_ms:
        severity = (
            CRITICAL
            if increase >= CRITICAL_LATENCY_FACTOR * thresholds.latency_increase_ms
            else WARNING
        )
        found.append(
            Alert(
                model_name=day.model_name,
                model_version=day.model_version,
                alert_type=LATENCY_INCREASE,
                severity=severity,
                observed=increase,
                threshold=thresholds.latency_increase_ms,
                message=(
                    f"median latency {day.latency_p50_ms:.0f} ms on {day.day} against a usual "
                    f"{day.usual_latency_p50_ms:.0f} ms ({day.requests} requests)"
                ),
                window=day.day.isoformat(),
            )
        )
    if day.error_rate > thresholds.error_rate:
        found.append(
            Alert(
                model_name=day.model_name,
                model_version=day.model_version,
                alert_type=ERROR_RATE,
                severity=CRITICAL,
                observed=day.error_rate,
                threshold=thresholds.error_rate,
                message=(
                    f"{day.error_rate:.1%} of {day.requests} requests failed (5xx) on {day.day}"
                ),
                window=day.day.isoformat(),
            )
        )
    return found


def drift_alerts(drift: pl.DataFrame) -> list[Alert]:
    """One alert per model and window whose drift rows (monitoring.feature_drift) flag anything:
    feature drift from feature rows, prediction drift from score rows (`prediction:` prefix)."""
    flagged = drift.filter(pl.col("drifted")).with_columns(
        alert_type=pl.when(pl.col("feature").str.starts_with(PREDICTION_PREFIX))
        .then(pl.lit(PREDICTION_DRIFT))
        .otherwise(pl.lit(FEATURE_DRIFT))
    )
    found = []
    for (model_name, alert_type, window), rows in flagged.group_by(
        ["model_name", "alert_type", "current_window"], maintain_order=True
    ):
        worst = rows.sort("score", descending=True).row(0, named=True)
        severity = (
            CRITICAL if worst["score"] >= CRITICAL_DRIFT_FACTOR * worst["threshold"] else WARNING
        )
        listed = ", ".join(f"{r['feature']} ({r['score']:.2f})" for r in rows.iter_rows(named=True))
        found.append(
            Alert(
                model_name=model_name,
                model_version=worst["model_version"],
                alert_type=alert_type,
                severity=severity,
                observed=worst["score"],
                threshold=worst["threshold"],
                message=f"drift ({worst['method']}) in {window} against "
                f"{worst['reference_window']}: {listed}",
                window=window,
            )
        )
    return found


def _table_exists(con: duckdb.DuckDBPyConnection, table: str = "alerts") -> bool:
    return (
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'monitoring' and table_name = ?",
            [table],
        ).fetchone()[0]
        > 0
    )


def known_alert_ids(con: duckdb.DuckDBPyConnection, ids: list[str]) -> set[str]:
    """Which of these alerts were raised before (by an earlier run)."""
    if not ids or not _table_exists(con):
        return set()
    found = con.execute(f"select alert_id from {TABLE} where alert_id in ?", [ids]).fetchall()
    return {row[0] for row in found}


def alerts_frame(alerts: list[Alert], raised_at: dt.datetime) -> pl.DataFrame:
    """Alerts as rows of monitoring.alerts."""
    return pl.DataFrame(
        [
            {
                "alert_id": a.alert_id,
                "raised_at": raised_at,
                "model_name": a.model_name,
                "model_version": a.model_version,
                "alert_type": a.alert_type,
                "severity": a.severity,
                "observed": a.observed,
                "threshold": a.threshold,
                "message": a.message,
                "rolled_back_from": a.rolled_back_from,
                "rolled_back_to": a.rolled_back_to,
            }
            for a in alerts
        ],
        schema=SCHEMA,
    )


def write_alerts(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> int:
    """Insert alerts not raised before; returns how many were new. An alert already in the table
    keeps its row (first raised_at, rollback record). Creates the schema and table when missing."""
    rows = frame.select([pl.col(name).cast(dtype) for name, dtype in SCHEMA.items()])
    con.execute("create schema if not exists monitoring")
    con.execute(DDL)
    before = con.execute(f"select count(*) from {TABLE}").fetchone()[0]
    upsert_rows(con, TABLE, DDL, rows, on_conflict="ignore")
    return con.execute(f"select count(*) from {TABLE}").fetchone()[0] - before


def critical_alerts_since(
    con: duckdb.DuckDBPyConnection, model_name: str, since: dt.datetime
) -> pl.DataFrame:
    """A model's critical alerts raised at or after `since` (UTC), oldest first; an empty frame
    when there are none or the table does not exist yet."""
    if not _table_exists(con):
        return pl.DataFrame(schema=SCHEMA)
    return con.execute(
        f"select * from {TABLE} where model_name = ? and severity = ? and raised_at >= ? "
        "order by raised_at, alert_id",
        [model_name, CRITICAL, _naive_utc(since)],
    ).pl()


def critical_drift_alerts_after(
    con: duckdb.DuckDBPyConnection, raised_after: dt.datetime | None
) -> pl.DataFrame:
    """Critical feature or prediction drift alerts raised after a moment (every one when None),
    oldest first: what should launch a retrain."""
    if not _table_exists(con):
        return pl.DataFrame(schema=SCHEMA)
    since = _naive_utc(raised_after) if raised_after else dt.datetime.min
    return con.execute(
        f"select * from {TABLE} where severity = ? and alert_type in ? and raised_at > ? "
        "order by raised_at, alert_id",
        [CRITICAL, list(DRIFT_TYPES), since],
    ).pl()


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    # The table stores naive UTC timestamps; an aware moment is converted first.
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)
