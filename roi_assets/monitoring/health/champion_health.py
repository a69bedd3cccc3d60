"""Champion health (concept drift): how the serving version does on each new labelled window.

The champion is scored on the latest labelled window (the last 28 days whose labels are known) and
its metrics are appended to monitoring.model_evaluations, so the table holds the version's history:
its first evaluation (the validation gate's, on the window it was chosen on) and every later window.
An accuracy drop is that first value minus the latest, on the headline metric (AUC-ROC): a model
whose inputs still look alike but whose relation to the outcome moved shows up here, not in
feature drift.

A window with too few rows or too few of either outcome is not evaluated: an AUC from 15 positives
swings by more than the 0.05 alert threshold by chance alone, and would roll back a healthy model.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from roi_assets.evaluation.binary_metrics import binary_metrics
from roi_assets.evaluation.model_evaluations import TABLE as EVALUATIONS
from roi_assets.evaluation.windows import TimeWindow

ACCURACY_METRIC = "auc_roc"
# Metrics that need no decision threshold, kept for a model that serves probabilities only.
THRESHOLD_FREE_METRICS = (
    "auc_roc",
    "pr_auc",
    "brier_score",
    "calibration_error",
    "decile_calibration_error",
)
LATEST_LABELLED_DAYS = 28
MIN_WINDOW_ROWS = 200
MIN_EACH_OUTCOME = 20


def latest_labelled_window(
    frame: pl.DataFrame, time_column: str, label_column: str, days: int = LATEST_LABELLED_DAYS
) -> pl.DataFrame:
    """Rows with a known label from the last `days` days that have labels."""
    labelled = frame.filter(pl.col(label_column).is_not_null())
    if labelled.height == 0:
        return labelled
    last = labelled[time_column].max()
    return labelled.filter(pl.col(time_column) > last - dt.timedelta(days=days))


def too_small_to_judge(outcomes: np.ndarray) -> str | None:
    """Why a window cannot judge a model, or None when it can."""
    positives = int(np.sum(outcomes))
    if len(outcomes) < MIN_WINDOW_ROWS:
        return f"{len(outcomes)} labelled rows (< {MIN_WINDOW_ROWS})"
    if min(positives, len(outcomes) - positives) < MIN_EACH_OUTCOME:
        return f"{positives} positives of {len(outcomes)} (< {MIN_EACH_OUTCOME} of each outcome)"
    return None


def window_evaluation(
    outcomes: np.ndarray,
    scores: np.ndarray,
    threshold: float | None,
    *,
    model_name: str,
    model_version: str,
    window: TimeWindow,
    evaluated_at: dt.datetime,
) -> pl.DataFrame:
    """The champion's metrics on one window as monitoring.model_evaluations rows (no oracle or
    baseline: the window measures the serving model against itself over time). Without a decision
    threshold only the threshold-free metrics are kept."""
    metrics = binary_metrics(outcomes, scores, 0.5 if threshold is None else threshold)
    if threshold is None:
        metrics = {name: metrics[name] for name in THRESHOLD_FREE_METRICS}
    return pl.DataFrame(
        {
            "model_name": model_name,
            "model_version": str(model_version),
            "metric": list(metrics),
            "value": [float(v) for v in metrics.values()],
            "oracle_value": None,
            "baseline_value": None,
            "evaluated_at": evaluated_at,
            "evaluation_window": window.label,
        },
        schema_overrides={"oracle_value": pl.Float64, "baseline_value": pl.Float64},
    )


def already_evaluated(
    con: duckdb.DuckDBPyConnection, model_name: str, model_version: str, window: TimeWindow
) -> bool:
    """Whether the version has rows for this window (e.g. the gate's own evaluation), which a
    monitoring row must not replace."""
    if not _table_exists(con):
        return False
    found = con.execute(
        f"select count(*) from {EVALUATIONS} "
        "where model_name = ? and model_version = ? and evaluation_window = ?",
        [model_name, str(model_version), window.label],
    ).fetchone()
    return found[0] > 0


@dataclass(frozen=True)
class ChampionHealth:
    """A version's headline metric when first evaluated and on its latest window."""

    model_name: str
    model_version: str
    metric: str
    reference_value: float
    reference_window: str
    current_value: float
    current_window: str

    @property
    def drop(self) -> float:
        return self.reference_value - self.current_value


def champion_health(
    con: duckdb.DuckDBPyConnection,
    model_name: str,
    model_version: str,
    metric: str = ACCURACY_METRIC,
) -> ChampionHealth | None:
    """First evaluation against the window that ends latest; None until the version has been
    evaluated on two windows."""
    if not _table_exists(con):
        return None
    rows = con.execute(
        f"select value, evaluation_window, evaluated_at from {EVALUATIONS} "
        "where model_name = ? and model_version = ? and metric = ? and value is not null",
        [model_name, str(model_version), metric],
    ).pl()
    if rows.height < 2:
        return None
    first = rows.sort("evaluated_at").row(0, named=True)
    latest = (
        rows.with_columns(window_end=pl.col("evaluation_window").str.split("/").list.last())
        .sort(["window_end", "evaluated_at"])
        .row(-1, named=True)
    )
    if latest["evaluation_window"] == first["evaluation_window"]:
        return None
    return ChampionHealth(
        model_name=model_name,
        model_version=str(model_version),
        metric=metric,
        reference_value=first["value"],
        reference_window=first["evaluation_window"],
        current_value=latest["value"],
        current_window=latest["evaluation_window"],
    )


def _table_exists(con: duckdb.DuckDBPyConnection) -> bool:
    schema, table = EVALUATIONS.split(".")
    return (
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
        > 0
    )
