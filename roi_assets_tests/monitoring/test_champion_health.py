"""Champion health judges each churn champion once per labelled window."""

import datetime as dt

import duckdb
import numpy as np
import polars as pl

from roi_assets.catalog import CHURN_WINDOWS_DAYS, churn_model_name
from roi_assets.churn.features import label_column
from roi_assets.evaluation.model_evaluations import write_model_evaluations
from roi_assets.evaluation.windows import TimeWindow
from roi_assets.monitoring.health.assets import _churn_health
from roi_assets.monitoring.health.champion_health import latest_labelled_window

SNAPSHOT = "snapshot_date"


class _RegistryThatMustNotLoad:
    """Every churn model has champion v5; loading a version fails the test."""

    def version(self, model_name: str, alias: str) -> str:
        return "5"

    def load_version(self, model_name: str, model_version: str):
        raise AssertionError(f"{model_name} v{model_version} was loaded")


def _snapshots(clients: int = 300) -> pl.DataFrame:
    rng = np.random.default_rng(0)
    mondays = [dt.date(2025, 3, 3) + dt.timedelta(weeks=week) for week in range(4)]
    frame = pl.DataFrame(
        {
            "client_id": [f"c{i}" for i in range(clients)] * len(mondays),
            SNAPSHOT: [day for day in mondays for _ in range(clients)],
        }
    )
    return frame.with_columns(
        pl.Series(label_column(days), rng.random(frame.height) < 0.2) for days in CHURN_WINDOWS_DAYS
    )


def test_a_window_already_judged_does_not_load_the_champion():
    churn = _snapshots()
    con = duckdb.connect()
    for days in CHURN_WINDOWS_DAYS:
        rows = latest_labelled_window(churn, SNAPSHOT, label_column(days))
        window = TimeWindow.covering(rows[SNAPSHOT])
        judged = pl.DataFrame(
            {
                "model_name": churn_model_name(days),
                "model_version": "5",
                "metric": "auc_roc",
                "value": 0.7,
                "oracle_value": None,
                "baseline_value": None,
                "evaluated_at": dt.datetime(2025, 4, 1),
                "evaluation_window": window.label,
            },
            schema_overrides={"oracle_value": pl.Float64, "baseline_value": pl.Float64},
        )
        write_model_evaluations(con, judged)

    metadata = _churn_health(churn, con, dt.datetime(2025, 4, 2), _RegistryThatMustNotLoad())

    assert sorted(metadata) == sorted(churn_model_name(days) for days in CHURN_WINDOWS_DAYS)
    assert all("already evaluated" in entry for entry in metadata.values())
