"""Churn-risk metrics of the specification, on plain numpy arrays.

An alert is a client scored at the high tier or above (probability ≥ 0.6). Definitions:
- auc_roc: area under the ROC curve of the probabilities (threshold-free ranking quality);
- precision_at_high: share of alerted clients who churned, TP / (TP + FP);
- alert_accuracy: share of all scored clients whose alert decision matched their outcome, i.e.
  alerted and churned or not alerted and stayed, (TP + TN) / n. The reading "share of alerts that
  were right" would repeat precision_at_high, so this one judges the alerting decision as a whole;
  with a few percent churning it is dominated by the quiet majority, which is why precision and
  false-positive rate stand next to it;
- false_positive_rate: share of clients who stayed but were alerted, FP / (FP + TN);
- precision_at_watch_list: share of the watch list who churned. The watch list is the riskiest
  WATCH_LIST_FRACTION of the scored clients, whatever their tier: on a world where churn is rare
  and hard to foresee, few clients (or none) reach the absolute tiers, yet an account team still
  wants the clients most worth a call. A random list's precision is the churn rate, the oracle's
  is the best any list can do;
- decile_calibration_error: mean |predicted - observed| over the deciles of the scores
  (`evaluation.calibration`); the oracle's value is the noise of the observed rates;
- calibration_gap_to_truth (in comparisons): the same against the true probabilities of each
  decile instead of its observed rate, free of that noise;
- clients_<tier>: how many rows the scorer puts in each of the specification's tiers; the oracle's
  count is the truth's, the clients whose true risk is that high.
Undefined values (a single class, no alerts) are NaN rather than a misleading 0.

`compare_churn_risk` puts a churn model, its ensemble members and baselines next to the oracle
(the true churn probabilities) and the targets, and turns that into `monitoring.model_evaluations`
rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import polars as pl
from numpy.typing import ArrayLike
from sklearn.metrics import confusion_matrix, roc_auc_score

from roi_assets.churn.tiers import RISK_TIERS, tier_index
from roi_assets.evaluation.binary_metrics import decile_calibration_error
from roi_assets.evaluation.calibration import truth_gap
from roi_assets.evaluation.oracle_comparison import AUC_OF_ORACLE, ORACLE, utc_naive
from roi_assets.evaluation.windows import TimeWindow

ALERT_THRESHOLD = 0.6
# About the share of clients who churn within 30 days on the default world (3 to 4.5 %): the list
# is as long as the number of clients expected to leave in a month.
WATCH_LIST_FRACTION = 0.03

# The specification's targets; false_positive_rate is an upper bound, the others lower bounds.
TARGETS: dict[str, float] = {
    "auc_roc": 0.88,
    "precision_at_high": 0.75,
    "alert_accuracy": 0.80,
    "false_positive_rate": 0.15,
}
UPPER_BOUND_TARGETS = frozenset({"false_positive_rate"})


def _ratio(numerator: int, denominator: int) -> float:
    return float(numerator / denominator) if denominator else math.nan


def watch_list_mask(probability: ArrayLike, fraction: float = WATCH_LIST_FRACTION) -> np.ndarray:
    """True for the ceil(fraction × n) highest probabilities (at least one when n > 0); ties are
    broken by position, so equal scores (a constant baseline) give an arbitrary list."""
    scores = np.asarray(probability, dtype=np.float64)
    if not 0 < fraction <= 1:
        raise ValueError("fraction must lie in (0, 1]")
    listed = np.zeros(len(scores), dtype=bool)
    if len(scores):
        size = math.ceil(fraction * len(scores))
        listed[np.argsort(-scores, kind="stable")[:size]] = True
    return listed


def churn_risk_metrics(
    churned: ArrayLike, probability: ArrayLike, alert_threshold: float = ALERT_THRESHOLD
) -> dict[str, float]:
    """AUC-ROC, precision at the high tier, alert accuracy, false-positive rate and precision of
    the watch list, plus counts."""
    y_true = np.asarray(churned).astype(np.int64)
    scores = np.asarray(probability, dtype=np.float64)
    if y_true.shape != scores.shape or y_true.ndim != 1:
        raise ValueError("churned and probability must be 1-d arrays of the same length")
    if not np.isin(y_true, (0, 1)).all():
        raise ValueError("churned must hold 0/1 outcomes")
    alerts = scores >= alert_threshold
    tn, fp, _fn, tp = confusion_matrix(y_true, alerts, labels=[0, 1]).ravel()
    both_classes = 0 < y_true.sum() < len(y_true)
    tiers = np.bincount(tier_index(scores), minlength=len(RISK_TIERS)) if len(scores) else None
    return {
        "auc_roc": float(roc_auc_score(y_true, scores)) if both_classes else math.nan,
        "precision_at_high": _ratio(tp, tp + fp),
        "alert_accuracy": _ratio(tp + tn, len(y_true)),
        "false_positive_rate": _ratio(fp, fp + tn),
        "precision_at_watch_list": (
            float(y_true[watch_list_mask(scores)].mean()) if len(y_true) else math.nan
        ),
        "decile_calibration_error": (
            decile_calibration_error(y_true, scores) if len(y_true) else math.nan
        ),
        **{
            tier_count(tier): float(tiers[i]) if tiers is not None else 0.0
            for i, tier in enumerate(RISK_TIERS)
        },
        "alerts": int(tp + fp),
        "clients": len(y_true),
        "churn_rate": float(y_true.mean()) if len(y_true) else math.nan,
    }


def tier_count(tier: str) -> str:
    """The metric name of a tier's client count, e.g. clients_medium."""
    return f"clients_{tier}"


def meets_targets(metrics: dict[str, float]) -> dict[str, bool]:
    """Per target metric, whether it reaches the specification's target (NaN never does)."""
    return {
        name: (metrics[name] < target if name in UPPER_BOUND_TARGETS else metrics[name] >= target)
        for name, target in TARGETS.items()
    }


# What a churn comparison reports, per scorer: the four targets, then the alert count, the watch
# list's precision and the AUC share.
CALIBRATION_GAP = "calibration_gap_to_truth"
COMPARED_METRICS: tuple[str, ...] = (
    *TARGETS,
    "alerts",
    "precision_at_watch_list",
    AUC_OF_ORACLE,
    "decile_calibration_error",
    CALIBRATION_GAP,
    *(tier_count(tier) for tier in RISK_TIERS),
)


@dataclass(frozen=True)
class ChurnRiskComparison:
    """A churn model, its members and baselines next to the oracle, on the same rows.

    `table` has one row per metric and one column per scorer (`model` first, then the members,
    the other baselines, `oracle`) plus `target`.
    """

    model_name: str
    model_version: str
    evaluation_window: str
    evaluated_at: datetime
    model: str
    members: tuple[str, ...]
    baselines: tuple[str, ...]
    table: pl.DataFrame

    def value(self, metric: str, scorer: str | None = None) -> float:
        cells = self.table.filter(pl.col("metric") == metric)[scorer or self.model]
        if cells.len() != 1:
            raise KeyError(f"no metric {metric!r} in the comparison")
        cell = cells.item()
        return math.nan if cell is None else float(cell)

    @property
    def best_member(self) -> str:
        """The member with the highest AUC on these rows: the yardstick the stack must meet."""
        return max(self.members, key=lambda member: _nan_low(self.value("auc_roc", member)))

    def evaluation_rows(self) -> pl.DataFrame:
        """Rows for `monitoring.model_evaluations`.

        The model's metrics keep their names, with the oracle's value and the best member's as
        `baseline_value`; every other scorer's metric is prefixed with its name (`forest_auc_roc`,
        `base_rate_alert_accuracy`, ...) under the same model name and version, because members
        and baselines are parts and yardsticks of this registered version, not models of their
        own. Their `baseline_value` is empty.
        """
        best = self.best_member
        rows = []
        for scorer in (self.model, *self.members, *self.baselines):
            prefix = "" if scorer == self.model else f"{scorer}_"
            for metric in COMPARED_METRICS:
                rows.append(
                    {
                        "metric": prefix + metric,
                        "value": self.value(metric, scorer),
                        "oracle_value": self.value(metric, ORACLE),
                        "baseline_value": (
                            self.value(metric, best) if scorer == self.model else None
                        ),
                    }
                )
        return pl.DataFrame(
            rows,
            schema={
                "metric": pl.String,
                "value": pl.Float64,
                "oracle_value": pl.Float64,
                "baseline_value": pl.Float64,
            },
        ).select(
            pl.lit(self.model_name).alias("model_name"),
            pl.lit(self.model_version).alias("model_version"),
            pl.all(),
            pl.lit(self.evaluated_at, dtype=pl.Datetime("us")).alias("evaluated_at"),
            pl.lit(self.evaluation_window).alias("evaluation_window"),
        )

    def markdown(self) -> str:
        """The side-by-side table with a headline sentence."""
        scorers = [self.model, *self.members, *self.baselines, ORACLE, "target"]
        lines = [
            f"**{self.model_name}** version {self.model_version}, evaluated on "
            f"{self.evaluation_window}: {self.model} AUC {self.value('auc_roc'):.3f} is "
            f"{self.value(AUC_OF_ORACLE):.1%} of the oracle's "
            f"{self.value('auc_roc', ORACLE):.3f}; best member {self.best_member} "
            f"{self.value('auc_roc', self.best_member):.3f}.",
            "",
            "| metric | " + " | ".join(scorers) + " |",
            "| --- |" + " ---: |" * len(scorers),
        ]
        for row in self.table.iter_rows(named=True):
            cells = [_format_cell(row["metric"], row[scorer]) for scorer in scorers]
            lines.append(f"| {row['metric']} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def _nan_low(value: float) -> float:
    return -math.inf if math.isnan(value) else value


def _format_cell(metric: str, value: float | None) -> str:
    if value is None or math.isnan(value):
        return "–"
    counts = metric == "alerts" or metric.startswith("clients_")
    return f"{value:.0f}" if counts else f"{value:.3f}"


def compare_churn_risk(
    churned: ArrayLike,
    scores: Mapping[str, ArrayLike],
    oracle_probabilities: ArrayLike,
    *,
    model: str,
    members: tuple[str, ...],
    model_name: str,
    model_version: str,
    evaluation_window: TimeWindow,
    evaluated_at: datetime | None = None,
) -> ChurnRiskComparison:
    """Churn-risk metrics of every scorer in `scores` and of the oracle on the same rows.

    `scores` holds the model's probabilities under `model`, each member's under its name in
    `members`, and any other baseline (e.g. the base rate) under its own name. Every scorer alerts
    at the same threshold, the high tier: an alert means the same thing whoever raises it.
    """
    reserved = {ORACLE, "metric", "target"} & set(scores)
    if reserved:
        raise ValueError(f"scorer names {sorted(reserved)} are reserved")
    missing = {model, *members} - set(scores)
    if missing:
        raise ValueError(f"no scores for {sorted(missing)}")
    baselines = tuple(name for name in scores if name not in {model, *members})
    columns = {
        name: churn_risk_metrics(churned, scores[name]) for name in (model, *members, *baselines)
    }
    columns[ORACLE] = churn_risk_metrics(churned, oracle_probabilities)
    oracle_auc = columns[ORACLE]["auc_roc"]
    for name, values in columns.items():
        values[AUC_OF_ORACLE] = values["auc_roc"] / oracle_auc
        probabilities = oracle_probabilities if name == ORACLE else scores[name]
        values[CALIBRATION_GAP] = truth_gap(probabilities, oracle_probabilities)
    table = pl.DataFrame(
        {
            "metric": list(COMPARED_METRICS),
            **{name: [values[m] for m in COMPARED_METRICS] for name, values in columns.items()},
            "target": [TARGETS.get(m) for m in COMPARED_METRICS],
        },
        schema_overrides={"target": pl.Float64},
    )
    return ChurnRiskComparison(
        model_name=model_name,
        model_version=str(model_version),
        evaluation_window=evaluation_window.label,
        evaluated_at=utc_naive(evaluated_at or datetime.now(UTC)),
        model=model,
        members=members,
        baselines=baselines,
        table=table,
    )
