"""Critical health alerts that stop a deployment, read from monitoring.alerts.

Monitoring raises alerts (columns in docs/tables.md: alert_id, raised_at UTC, model_name,
model_version, alert_type, severity 'warning' | 'critical', observed, threshold, message, ...).
`deployment.lifecycle.stopping_alerts` decides which of them stop a deployment (those on the
challenger). A warehouse without the table has raised no alert.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from roi_assets.resources.warehouse import table_exists

ALERTS_TABLE = "monitoring.alerts"
CRITICAL = "critical"


@dataclass(frozen=True)
class CriticalAlert:
    raised_at: dt.datetime
    model_version: str | None
    alert_type: str
    observed: float | None
    threshold: float | None
    message: str

    def describe(self) -> str:
        version = f" on v{self.model_version}" if self.model_version is not None else ""
        return (
            f"critical alert {self.alert_type}{version} at {self.raised_at:%Y-%m-%d %H:%M} UTC "
            f"(observed {self.observed}, threshold {self.threshold}): {self.message}"
        )


def critical_alerts(
    con: duckdb.DuckDBPyConnection, model_name: str, since: dt.datetime
) -> list[CriticalAlert]:
    """The model's critical alerts raised since `since` (UTC), oldest first."""
    if not table_exists(con, "monitoring", "alerts"):
        return []
    rows = con.execute(
        "select raised_at, model_version, alert_type, observed, threshold, message "
        f"from {ALERTS_TABLE} where model_name = ? and severity = ? "
        "and raised_at >= ? order by raised_at",
        [model_name, CRITICAL, since],
    ).fetchall()
    return [
        CriticalAlert(
            raised_at,
            None if version is None else str(version),
            str(alert_type),
            observed,
            threshold,
            str(message),
        )
        for raised_at, version, alert_type, observed, threshold, message in rows
    ]
