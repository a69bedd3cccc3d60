"""The model next to what is achievable (the oracle) and what is trivial (baselines), same rows.

The oracle scores each row with its true probability from the simulator's `truth` schema; no
model can rank better in expectation, so the model's AUC as a fraction of the oracle's says how
much of the achievable signal it found. Baselines (the training base rate, a logistic
regression, a single ensemble member, ...) say whether the model's complexity pays off.

Thresholds: the model's comes from its validation data and is passed in. The oracle's is chosen the
same way (maximising F1) on its own scores over the evaluated rows, since it has no training data;
a baseline uses the threshold passed for it, or one chosen like the oracle's when none is given.

`metrics` is the tidy table of `monitoring.model_evaluations` (one row per metric, `baseline_value`
from the reference baseline); `table` keeps every baseline side by side for reports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import polars as pl
from numpy.typing import ArrayLike

from roi_assets.evaluation.binary_metrics import (
    METRIC_NAMES,
    binary_arrays,
    binary_metrics,
    choose_threshold,
)
from roi_assets.evaluation.windows import TimeWindow

MODEL = "model"
ORACLE = "oracle"
AUC_OF_ORACLE = "auc_roc_of_oracle"
EVALUATION_COLUMNS: tuple[str, ...] = (
    "model_name",
    "model_version",
    "metric",
    "value",
    "oracle_value",
    "baseline_value",
    "evaluated_at",
    "evaluation_window",
)


def base_rate_scores(training_outcomes: ArrayLike, n_rows: int) -> np.ndarray:
    """The naive baseline: every row scored with the positive rate seen in training."""
    rate = float(np.mean(np.asarray(training_outcomes, dtype=np.float64)))
    return np.full(n_rows, rate)


def utc_naive(moment: datetime) -> datetime:
    """Timestamps are stored as UTC without a zone (DuckDB TIMESTAMP), like the feature tables."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@dataclass(frozen=True)
class OracleComparison:
    model_name: str
    model_version: str
    evaluation_window: str
    evaluated_at: datetime
    reference_baseline: str
    baselines: tuple[str, ...]
    # One row per metric; columns: metric, model, oracle, one per baseline, target.
    table: pl.DataFrame
    metrics: pl.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        tidy = self.table.select(
            pl.lit(self.model_name).alias("model_name"),
            pl.lit(self.model_version).alias("model_version"),
            pl.col("metric"),
            pl.col(MODEL).alias("value"),
            pl.col(ORACLE).alias("oracle_value"),
            pl.col(self.reference_baseline).alias("baseline_value"),
            pl.lit(self.evaluated_at, dtype=pl.Datetime("us")).alias("evaluated_at"),
            pl.lit(self.evaluation_window).alias("evaluation_window"),
        )
        object.__setattr__(self, "metrics", tidy)

    def value(self, metric: str, scorer: str = MODEL) -> float:
        """One cell of the side-by-side table, e.g. `value("auc_roc", "oracle")`."""
        cells = self.table.filter(pl.col("metric") == metric)[scorer]
        if cells.len() != 1:
            raise KeyError(f"no metric {metric!r} in the comparison")
        cell = cells.item()
        return math.nan if cell is None else float(cell)

    def baseline_values(self, metric: str) -> dict[str, float]:
        return {name: self.value(metric, name) for name in self.baselines}

    @property
    def auc_fraction_of_oracle(self) -> float:
        return self.value(AUC_OF_ORACLE)

    def flat_metrics(self) -> dict[str, float]:
        """Every cell as a flat name → value map (e.g. for `mlflow.log_metrics`): the model's under
        the metric name, the others prefixed with the scorer's name. NaN cells are left out."""
        flat: dict[str, float] = {}
        for scorer in (MODEL, ORACLE, *self.baselines):
            prefix = "" if scorer == MODEL else f"{scorer}_"
            for metric in self.table["metric"]:
                value = self.value(metric, scorer)
                if not math.isnan(value):
                    flat[f"{prefix}{metric}"] = value
        return flat

    def markdown(self) -> str:
        """The side-by-side table (model | oracle | baselines | target) with a headline sentence."""
        scorers = [MODEL, ORACLE, *self.baselines, "target"]
        oracle_auc = self.value("auc_roc", ORACLE)
        lines = [
            f"**{self.model_name}** version {self.model_version}, evaluated on "
            f"{self.evaluation_window}: AUC {self.value('auc_roc'):.3f} is "
            f"{self.auc_fraction_of_oracle:.1%} of the oracle's {oracle_auc:.3f}.",
            "",
            "| metric | " + " | ".join(scorers) + " |",
            "| --- |" + " ---: |" * len(scorers),
        ]
        for row in self.table.iter_rows(named=True):
            cells = [_format_cell(row[scorer]) for scorer in scorers]
            lines.append(f"| {row['metric']} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def _format_cell(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.3f}"


def compare_with_oracle(
    y_true: ArrayLike,
    model_scores: ArrayLike,
    oracle_probabilities: ArrayLike,
    baseline_scores: Mapping[str, ArrayLike],
    *,
    model_name: str,
    model_version: str,
    model_threshold: float,
    evaluation_window: TimeWindow,
    baseline_thresholds: Mapping[str, float] | None = None,
    reference_baseline: str | None = None,
    targets: Mapping[str, float] | None = None,
    evaluated_at: datetime | None = None,
) -> OracleComparison:
    """Evaluate model, oracle and every baseline on the same rows with the same metrics.

    `reference_baseline` names the baseline reported in `baseline_value`; by default the one with
    the highest AUC, the hardest to beat. `targets` (e.g. the specification's) fill the target
    column. `evaluated_at` defaults to now (UTC).
    """
    if not baseline_scores:
        raise ValueError("at least one baseline is needed")
    reserved = {MODEL, ORACLE, "metric", "target"} & set(baseline_scores)
    if reserved:
        raise ValueError(f"baseline names {sorted(reserved)} are reserved")
    outcomes, _ = binary_arrays(y_true, model_scores)
    thresholds = dict(baseline_thresholds or {})
    unknown = set(thresholds) - set(baseline_scores)
    if unknown:
        raise ValueError(f"thresholds given for unknown baselines {sorted(unknown)}")

    def scored(scores: ArrayLike, threshold: float | None) -> dict[str, float]:
        if threshold is None:
            threshold = choose_threshold(outcomes, scores)
        return binary_metrics(outcomes, scores, threshold)

    columns: dict[str, dict[str, float]] = {
        MODEL: scored(model_scores, model_threshold),
        ORACLE: scored(oracle_probabilities, None),
    }
    for name, scores in baseline_scores.items():
        columns[name] = scored(scores, thresholds.get(name))
    oracle_auc = columns[ORACLE]["auc_roc"]
    for values in columns.values():
        values[AUC_OF_ORACLE] = values["auc_roc"] / oracle_auc

    baselines = tuple(baseline_scores)
    if reference_baseline is None:
        reference_baseline = max(baselines, key=lambda name: columns[name]["auc_roc"])
    elif reference_baseline not in baseline_scores:
        raise ValueError(f"reference baseline {reference_baseline!r} is not among the baselines")

    metric_names = [*METRIC_NAMES, AUC_OF_ORACLE]
    target_values = dict(targets or {})
    table = pl.DataFrame(
        {
            "metric": metric_names,
            **{scorer: [values[m] for m in metric_names] for scorer, values in columns.items()},
            "target": [target_values.get(m) for m in metric_names],
        },
        schema_overrides={"target": pl.Float64},
    )
    return OracleComparison(
        model_name=model_name,
        model_version=str(model_version),
        evaluation_window=evaluation_window.label,
        evaluated_at=utc_naive(evaluated_at or datetime.now(UTC)),
        reference_baseline=reference_baseline,
        baselines=baselines,
        table=table,
    )
