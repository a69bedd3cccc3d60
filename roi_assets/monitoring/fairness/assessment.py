"""Group fairness of a classifier's decisions with fairlearn, and what a mitigation would change.

For each protected attribute (age_group, geographic_region, client_value_tier: client context,
never model features) a `MetricFrame` gives per-group selection rate, true-positive rate and size,
and three summaries:
- demographic parity difference: largest minus smallest selection rate;
- equal opportunity difference: largest minus smallest true-positive rate;
- disparate impact ratio: smallest over largest selection rate (the four-fifths rule: ≥ 0.8).
Beside them, not judged: each group's base rate (the share of its rows whose outcome is positive)
and the base-rate ratio (smallest over largest). A list meant to find the positives, such as a
churn watch list, selects groups in proportion to how often they turn out positive; when the
disparate impact ratio sits near the base-rate ratio, the gap is the outcome's, not the model's.
Summaries are judged only over groups with at least `min_group_size` rows: a gap between a few
dozen people is mostly noise, and a limit crossed by noise would teach everyone to ignore the
warning. With fewer than two such groups the summary is NULL (not judged).

Every rate and summary carries a 95 % interval (`ci_low`, `ci_high`), since the rows are a sample
(the latest labelled window): a group's rates get Wilson's interval (statsmodels), the summaries a
parametric bootstrap that redraws each judged group's rates from its binomial and takes the
summary again (fairlearn gives the point values only). A gap whose interval straddles its limit
is one the sample cannot decide.

Mitigation (a report, never what is served): fairlearn's `ThresholdOptimizer` on the model's own
scores picks a threshold per group under a parity constraint. It is cross-fitted, each half of
the rows decided by thresholds chosen on the other half, so its accuracy and gaps are out of
sample and comparable with the model's on the same rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import polars as pl
from fairlearn.metrics import MetricFrame, count, selection_rate, true_positive_rate
from fairlearn.postprocessing import ThresholdOptimizer
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedKFold
from statsmodels.stats.proportion import proportion_confint

from roi_assets.resources.table_contracts import ensure_table

PROTECTED_ATTRIBUTES: tuple[str, ...] = ("age_group", "geographic_region", "client_value_tier")
MODEL = "model"
MITIGATED = "mitigated"
CONSTRAINTS = ("demographic_parity", "true_positive_rate_parity")
DEMOGRAPHIC_PARITY = "demographic_parity_difference"
EQUAL_OPPORTUNITY = "equal_opportunity_difference"
DISPARATE_IMPACT = "disparate_impact_ratio"
BASE_RATE_RATIO = "base_rate_ratio"
ACCURACY = "accuracy"
UNKNOWN_GROUP = "unknown"
FAIRNESS_COLUMNS: tuple[str, ...] = (
    "model_name",
    "model_version",
    "variant",
    "attribute",
    "metric",
    "group",
    "value",
    "limit",
    "within_limit",
    "computed_at",
    "ci_low",
    "ci_high",
)
CONFIDENCE = 0.95
BOOTSTRAP_DRAWS = 2_000
BOOTSTRAP_SEED = 0
# The denominator of each per-group rate, a column of the MetricFrame's `by_group`.
_RATE_TRIALS = {"selection_rate": "count", "base_rate": "count", "true_positive_rate": "positives"}


def base_rate(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Share of positive outcomes (a fairlearn metric: `y_pred` is not used)."""
    return float(np.mean(y_true)) if len(y_true) else float("nan")


def positives(y_true: ArrayLike, y_pred: ArrayLike) -> int:
    """Rows whose outcome is positive (a fairlearn metric: `y_pred` is not used)."""
    return int(np.sum(y_true))


_GROUP_METRICS = {
    "selection_rate": selection_rate,
    "true_positive_rate": true_positive_rate,
    "base_rate": base_rate,
    "count": count,
}
_INTERVAL_METRICS = _GROUP_METRICS | {"positives": positives}


@dataclass(frozen=True)
class FairnessLimits:
    """Where a gap becomes a warning. Differences are in rate points (0.1 = 10 points)."""

    max_demographic_parity_difference: float = 0.1
    max_equal_opportunity_difference: float = 0.1
    min_disparate_impact_ratio: float = 0.8
    min_group_size: int = 100


def _groups(values: ArrayLike) -> np.ndarray:
    groups = np.asarray(values, dtype=object)
    # From a list: given an object array whose first hundred values are None, polars infers an
    # Object series that it then refuses to cast.
    missing = pl.Series(groups.tolist(), dtype=pl.String).is_null().to_numpy()
    return np.where(missing, UNKNOWN_GROUP, groups)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _judged_rates(by_group: Any, min_group_size: int) -> Any:
    """The per-group rates of the groups large enough to judge (a slice of the MetricFrame's
    `by_group`), or None with fewer than two. The summaries over them are fairlearn's
    `between_groups` difference and ratio (largest minus smallest, smallest over largest), taken
    on the slice rather than on a second MetricFrame over the same rows: a group's rates do not
    depend on which other groups are judged."""
    judged = by_group[by_group["count"] >= min_group_size]
    if len(judged) < 2:
        return None
    return judged[["selection_rate", "true_positive_rate", "base_rate"]].astype(float)


def attribute_report(
    y_true: ArrayLike, y_pred: ArrayLike, groups: ArrayLike, limits: FairnessLimits
) -> list[dict]:
    """Per-group and summary rows (attribute, metric, group, value, limit, within_limit) of one
    protected attribute; `group` is None on the summary rows."""
    labels = np.asarray(y_true, dtype=np.int64)
    decisions = np.asarray(y_pred, dtype=np.int64)
    members = _groups(groups)
    by_group = MetricFrame(
        metrics=_INTERVAL_METRICS, y_true=labels, y_pred=decisions, sensitive_features=members
    ).by_group
    rows = [
        {"metric": metric, "group": str(group), "value": _finite(values[metric])}
        | _rate_interval(
            values[metric], values[_RATE_TRIALS[metric]] if metric in _RATE_TRIALS else 0
        )
        for group, values in by_group.iterrows()
        for metric in _GROUP_METRICS
    ]
    accuracy = accuracy_score(labels, decisions)
    rows.append(
        {"metric": ACCURACY, "group": None, "value": accuracy}
        | _rate_interval(accuracy, len(labels))
    )
    judged = _judged_rates(by_group, limits.min_group_size)
    intervals = {} if judged is None else _summary_intervals(by_group.loc[judged.index])
    difference = None if judged is None else judged.max() - judged.min()
    ratio = None if judged is None else judged.min() / judged.max()
    summaries = {
        DEMOGRAPHIC_PARITY: (
            None if difference is None else difference["selection_rate"],
            limits.max_demographic_parity_difference,
            "max",
        ),
        EQUAL_OPPORTUNITY: (
            None if difference is None else difference["true_positive_rate"],
            limits.max_equal_opportunity_difference,
            "max",
        ),
        DISPARATE_IMPACT: (
            None if ratio is None else ratio["selection_rate"],
            limits.min_disparate_impact_ratio,
            "min",
        ),
    }
    base_ratio = None if ratio is None else _finite(ratio["base_rate"])
    rows.append(
        {"metric": BASE_RATE_RATIO, "group": None, "value": base_ratio}
        | intervals.get(BASE_RATE_RATIO, {})
    )
    for metric, (value, limit, kind) in summaries.items():
        value = None if value is None else _finite(value)
        within = None if value is None else (value <= limit if kind == "max" else value >= limit)
        rows.append(
            {
                "metric": metric,
                "group": None,
                "value": value,
                "limit": limit,
                "within_limit": within,
            }
            | intervals.get(metric, {})
        )
    return rows


def _rate_interval(rate: float, trials: float) -> dict[str, float | None]:
    """Wilson's 95 % interval of a rate observed on `trials` rows; none without rows."""
    if not trials or not np.isfinite(rate):
        return {}
    low, high = proportion_confint(
        round(rate * trials), int(trials), alpha=1 - CONFIDENCE, method="wilson"
    )
    return {"ci_low": float(low), "ci_high": float(high)}


def _summary_intervals(groups: Any) -> dict[str, dict[str, float | None]]:
    """95 % percentile intervals of the judged summaries, each group's selection, true-positive
    and base rates redrawn from their binomials (`groups`: the judged groups' `by_group` rows)."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)

    def redrawn(metric: str) -> np.ndarray:
        trials = groups[_RATE_TRIALS[metric]].to_numpy(dtype=np.int64)
        rates = np.nan_to_num(groups[metric].to_numpy(dtype=float))
        draws = rng.binomial(trials, rates, size=(BOOTSTRAP_DRAWS, len(trials)))
        with np.errstate(divide="ignore", invalid="ignore"):
            return draws / trials

    selection, tpr, base = (
        redrawn(m) for m in ("selection_rate", "true_positive_rate", "base_rate")
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = {
            DEMOGRAPHIC_PARITY: selection.max(axis=1) - selection.min(axis=1),
            EQUAL_OPPORTUNITY: np.nanmax(tpr, axis=1) - np.nanmin(tpr, axis=1),
            DISPARATE_IMPACT: selection.min(axis=1) / selection.max(axis=1),
            BASE_RATE_RATIO: base.min(axis=1) / base.max(axis=1),
        }
    tail = (1 - CONFIDENCE) / 2 * 100
    intervals = {}
    for metric, values in draws.items():
        finite = values[np.isfinite(values)]
        if finite.size:
            low, high = np.percentile(finite, [tail, 100 - tail])
            intervals[metric] = {"ci_low": float(low), "ci_high": float(high)}
    return intervals


def fairness_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    protected: Mapping[str, ArrayLike],
    *,
    model_name: str,
    model_version: str,
    computed_at: dt.datetime,
    limits: FairnessLimits | None = None,
    variant: str = MODEL,
) -> pl.DataFrame:
    """Rows of monitoring.fairness_metrics (FAIRNESS_COLUMNS) for every protected attribute:
    per-group selection rate, true-positive rate and count, then accuracy and the three judged
    summaries. `protected` maps attribute name → the group of each row."""
    limits = limits or FairnessLimits()
    rows = [
        {"attribute": attribute, **row}
        for attribute, groups in protected.items()
        for row in attribute_report(y_true, y_pred, groups, limits)
    ]
    return _as_table(rows, model_name, model_version, variant, computed_at)


def _as_table(
    rows: list[dict], model_name: str, model_version: str, variant: str, computed_at: dt.datetime
) -> pl.DataFrame:
    return (
        pl.DataFrame(
            rows,
            schema={
                "attribute": pl.String,
                "metric": pl.String,
                "group": pl.String,
                "value": pl.Float64,
                "limit": pl.Float64,
                "within_limit": pl.Boolean,
                "ci_low": pl.Float64,
                "ci_high": pl.Float64,
            },
        )
        .with_columns(
            pl.lit(model_name).alias("model_name"),
            pl.lit(str(model_version)).alias("model_version"),
            pl.lit(variant).alias("variant"),
            pl.lit(computed_at).cast(pl.Datetime("us")).alias("computed_at"),
        )
        .select(FAIRNESS_COLUMNS)
    )


class _GivenScores(ClassifierMixin, BaseEstimator):
    """A 'prefit model' whose only input column is its own score: ThresholdOptimizer wants an
    estimator, and the served models need inputs (daily sequences, pipelines) it cannot carry."""

    classes_ = np.array([0, 1])

    def fit(self, X: np.ndarray, y: np.ndarray) -> _GivenScores:
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        scores = np.asarray(X, dtype=np.float64)[:, 0]
        return np.column_stack([1 - scores, scores])

    def __sklearn_is_fitted__(self) -> bool:
        return True


class MitigationUnavailable(ValueError):
    """The rows cannot support per-group thresholds (e.g. a group without positives in a half)."""


def mitigated_decisions(
    y_true: ArrayLike,
    scores: ArrayLike,
    groups: ArrayLike,
    *,
    constraint: str = "demographic_parity",
    seed: int = 0,
) -> np.ndarray:
    """0/1 decisions of a cross-fitted `ThresholdOptimizer` (prefit on the scores) per row."""
    if constraint not in CONSTRAINTS:
        raise ValueError(f"unknown constraint {constraint!r}; choose one of {CONSTRAINTS}")
    labels = np.asarray(y_true, dtype=np.int64)
    matrix = np.asarray(scores, dtype=np.float64).reshape(-1, 1)
    members = _groups(groups)
    decisions = np.zeros(len(labels), dtype=np.int64)
    # Stratified on group × label so both halves hold every group's outcomes where possible.
    strata = np.char.add(members.astype(str), labels.astype(str))
    try:
        halves = StratifiedKFold(n_splits=2, shuffle=True, random_state=seed).split(matrix, strata)
        for fit_rows, decide_rows in halves:
            optimizer = ThresholdOptimizer(
                estimator=_GivenScores(),
                constraints=constraint,
                prefit=True,
                predict_method="predict_proba",
            ).fit(matrix[fit_rows], labels[fit_rows], sensitive_features=members[fit_rows])
            decisions[decide_rows] = optimizer.predict(
                matrix[decide_rows], sensitive_features=members[decide_rows], random_state=seed
            )
    except (ValueError, KeyError, ZeroDivisionError) as error:
        raise MitigationUnavailable(str(error)) from error
    return decisions


def mitigation_report(
    y_true: ArrayLike,
    scores: ArrayLike,
    protected: Mapping[str, ArrayLike],
    *,
    model_name: str,
    model_version: str,
    computed_at: dt.datetime,
    limits: FairnessLimits | None = None,
    constraint: str = "demographic_parity",
    seed: int = 0,
) -> tuple[pl.DataFrame, dict[str, str]]:
    """Rows of variant 'mitigated' per attribute (each mitigated for that attribute alone), and
    for attributes where mitigation could not run, the reason."""
    limits = limits or FairnessLimits()
    rows: list[dict] = []
    skipped: dict[str, str] = {}
    for attribute, groups in protected.items():
        try:
            decisions = mitigated_decisions(
                y_true, scores, groups, constraint=constraint, seed=seed
            )
        except MitigationUnavailable as why:
            skipped[attribute] = str(why)
            continue
        rows += [
            {"attribute": attribute, **row}
            for row in attribute_report(y_true, decisions, groups, limits)
        ]
    return _as_table(rows, model_name, model_version, MITIGATED, computed_at), skipped


def flagged(report: pl.DataFrame) -> pl.DataFrame:
    """The served model's summary rows past their limit."""
    return report.filter(
        (pl.col("variant") == MODEL) & pl.col("within_limit").eq(False).fill_null(False)
    )


def _verdict(limit: float | None, within: bool | None) -> str:
    if limit is None:
        return ""
    if within is None:
        return "not judged"
    return "yes" if within else "**no**"


def summary_markdown(report: pl.DataFrame) -> str:
    """Judged summaries per attribute: the model next to its mitigation, when there is one."""
    summary = report.filter(pl.col("group").is_null())
    lines = [
        "| attribute | metric | model [95 % interval] | mitigated | limit | within |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]

    def shown(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    for (attribute, metric), part in summary.group_by("attribute", "metric", maintain_order=True):
        values = {row["variant"]: row for row in part.iter_rows(named=True)}
        served = values.get(MODEL, {})
        within = served.get("within_limit")
        interval = (
            ""
            if served.get("ci_low") is None
            else f" [{served['ci_low']:.3f}, {served['ci_high']:.3f}]"
        )
        lines.append(
            f"| {attribute} | {metric} | {shown(served.get('value'))}{interval} | "
            f"{shown(values.get(MITIGATED, {}).get('value'))} | {shown(served.get('limit'))} | "
            f"{_verdict(served.get('limit'), within)} |"
        )
    return "\n".join(lines)


TABLE = "monitoring.fairness_metrics"


def write_fairness_metrics(con: duckdb.DuckDBPyConnection, report: pl.DataFrame) -> int:
    """Replace the rows of each (model_name, model_version) in `report` with `report`'s: the
    table holds the latest report per model version (summary rows have a NULL group, so there
    is no primary key to upsert on)."""
    ensure_table(con, TABLE)
    con.register("incoming_fairness", report.select(FAIRNESS_COLUMNS).to_arrow())
    try:
        con.execute(
            f"delete from {TABLE} where (model_name, model_version) in "
            "(select distinct model_name, model_version from incoming_fairness)"
        )
        con.execute(f"insert into {TABLE} by name select * from incoming_fairness")
    finally:
        con.unregister("incoming_fairness")
    return report.height
