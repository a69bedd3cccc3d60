"""Fairness assets and their warning checks: the champions' decisions on the latest labelled rows,
per protected group, next to what a per-group threshold (fairlearn's ThresholdOptimizer) would do.

Each asset runs after its domain's mart, that is after the validation gate let a version through.
A model whose gate has not let any version through yet (no champion) is assessed through its
`candidate`: a fairness problem is worth knowing before a version can serve. The warning checks
judge champions only, the decisions actually served. The document classifier is not
assessed: documents carry no protected attribute of a client.
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any

import dagster as dg
import mlflow.sklearn
import numpy as np
import polars as pl
from dagster_duckdb import DuckDBResource

from roi_assets.catalog import (
    CHURN_FEATURES,
    CHURN_MODELS,
    CHURN_RISK,
    CHURN_WINDOWS_DAYS,
    CLIENT_DAILY,
    EMAIL_FEATURES,
    ENGAGEMENT_EVALUATION_FRACTION,
    ENGAGEMENT_MODELS,
    ENGAGEMENT_SCORES,
)
from roi_assets.churn.daily_reads import sequences_for
from roi_assets.churn.folds import InsufficientHistory
from roi_assets.churn.splits import split_window
from roi_assets.churn.tiers import MEDIUM_RISK
from roi_assets.engagement.features import HEADLINE_TARGET, TIME_COLUMN, labelled_history
from roi_assets.engagement.model import predict_proba
from roi_assets.evaluation.reliability import png_markdown
from roi_assets.evaluation.risk_metrics import watch_list_mask
from roi_assets.evaluation.windows import time_ordered_split
from roi_assets.monitoring.fairness.assessment import (
    BASE_RATE_RATIO,
    PROTECTED_ATTRIBUTES,
    TABLE,
    FairnessLimits,
    fairness_report,
    flagged,
    mitigation_report,
    summary_markdown,
    write_fairness_metrics,
)
from roi_assets.monitoring.fairness.plots import selection_rate_by_group_png
from roi_assets.monitoring.samples import at_most
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.tracking import CHAMPION, champion_or_candidate
from roi_assets.resources.warehouse import WAREHOUSE_POOL, table_exists

MEDIUM_OR_HIGHER = "medium_or_higher"


class FairnessConfig(dg.Config):
    """Limits past which the check warns (see `monitoring.fairness`), the smallest group judged,
    the parity constraint of the mitigation report ('demographic_parity' or
    'true_positive_rate_parity'), and the most rows assessed: a larger window is sampled at
    random (the default world's are smaller; at `large` a window holds about 800,000 rows, and
    the reported intervals say what the sample can tell)."""

    max_demographic_parity_difference: float = FairnessLimits.max_demographic_parity_difference
    max_equal_opportunity_difference: float = FairnessLimits.max_equal_opportunity_difference
    min_disparate_impact_ratio: float = FairnessLimits.min_disparate_impact_ratio
    min_group_size: int = FairnessLimits.min_group_size
    mitigation_constraint: str = "demographic_parity"
    max_rows: int = 100_000
    seed: int = 0

    def limits(self) -> FairnessLimits:
        return FairnessLimits(
            **self.model_dump(exclude={"mitigation_constraint", "max_rows", "seed"})
        )


def _assess(
    config: FairnessConfig,
    model_name: str,
    alias: str,
    version: str,
    outcomes: np.ndarray,
    scores: np.ndarray,
    decisions: np.ndarray,
    rows: pl.DataFrame,
    also_judged: dict[str, np.ndarray] | None = None,
) -> tuple[pl.DataFrame, dict[str, object]]:
    """The served decisions' report (variant `model`), the report of any other decision rule the
    business acts on (`also_judged`, one variant each) and the mitigation's, with metadata."""
    protected = {name: rows[name].to_numpy() for name in PROTECTED_ATTRIBUTES}
    named = {
        "model_name": model_name,
        "model_version": version,
        "computed_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "limits": config.limits(),
    }
    served = fairness_report(outcomes, decisions, protected, **named)
    others = [
        fairness_report(outcomes, rule, protected, variant=variant, **named)
        for variant, rule in (also_judged or {}).items()
    ]
    mitigated, skipped = mitigation_report(
        outcomes,
        scores,
        protected,
        constraint=config.mitigation_constraint,
        seed=config.seed,
        **named,
    )
    report = pl.concat([served, *others, mitigated])
    metadata: dict[str, Any] = {
        f"{model_name}_version": f"{version} ({alias})",
        f"{model_name}_rows": len(outcomes),
        f"{model_name}_flags": flagged(report).height,
        f"{model_name}_report": dg.MetadataValue.md(summary_markdown(report)),
        f"{model_name}_per_group": dg.MetadataValue.md(
            png_markdown(selection_rate_by_group_png(report), "selection rate per group")
        ),
    }
    if skipped:
        metadata[f"{model_name}_mitigation_skipped"] = skipped
    return report, metadata


def _write(
    duckdb: DuckDBResource,
    reports: list[pl.DataFrame],
    metadata: dict[str, object],
) -> dg.MaterializeResult:
    written = 0
    if reports:
        with duckdb.get_connection() as con:
            written = sum(write_fairness_metrics(con, report) for report in reports)
    return dg.MaterializeResult(metadata={"dagster/row_count": written, **metadata})


@dg.asset(
    group_name="monitoring",
    kinds={"fairlearn", "python", "duckdb"},
    deps=[ENGAGEMENT_SCORES],
    ins={"features": dg.AssetIn(key=EMAIL_FEATURES)},
    pool=WAREHOUSE_POOL,
)
def engagement_fairness(
    config: FairnessConfig,
    features: pl.DataFrame,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> dg.MaterializeResult:
    """Group fairness of the engagement champions (roi-engagement-open / -click; a model without
    one: its candidate) on the latest
    labelled sends (the evaluation window): per age_group, geographic_region and
    client_value_tier, the selection rate and true-positive rate of the open/click decision, the
    demographic parity difference, equal opportunity difference and disparate impact ratio
    against the configured limits, and the same after a cross-fitted ThresholdOptimizer (variant
    'mitigated', a report only: what is served never changes); to monitoring.fairness_metrics."""
    labelled = labelled_history(features, HEADLINE_TARGET)
    _, window = time_ordered_split(labelled, TIME_COLUMN, ENGAGEMENT_EVALUATION_FRACTION)
    rows = at_most(window, config.max_rows, config.seed)
    reports, metadata = [], {}
    for target, model_name in ENGAGEMENT_MODELS.items():
        found = champion_or_candidate(model_name, registry.client())
        if found is None:
            metadata[f"{model_name}_skipped"] = "nothing registered yet: nothing to assess"
            continue
        alias, version = found
        model = registry.load(model_name, alias, mlflow.sklearn.load_model)
        scores = predict_proba(model, rows)
        decisions = (scores >= model.threshold).astype(np.int64)
        report, found = _assess(
            config, model_name, alias, version, rows[target].to_numpy(), scores, decisions, rows
        )
        reports.append(report)
        metadata |= found
    return _write(duckdb, reports, metadata)


@dg.asset(
    group_name="monitoring",
    kinds={"fairlearn", "python", "duckdb"},
    deps=[CHURN_RISK, CLIENT_DAILY],
    ins={"churn": dg.AssetIn(key=CHURN_FEATURES)},
    pool=WAREHOUSE_POOL,
)
def churn_fairness(
    config: FairnessConfig,
    churn: pl.DataFrame,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> dg.MaterializeResult:
    """Group fairness of the churn champions (roi-churn-30d / -60d / -90d; a window without one:
    its candidate) on each window's latest labelled snapshots. The decision judged is the one the
    business acts on: being put on the watch list (the riskiest 3 %, variant `model`); the
    medium-or-higher tier (risk ≥ 0.3) is reported too (variant `medium_or_higher`), compared with
    who churned. Per age_group, geographic_region and client_value_tier the same rates, gaps,
    disparate impact and limits as the engagement report, and the ThresholdOptimizer mitigation
    next to them (a report only); to monitoring.fairness_metrics."""
    reports, metadata = [], {}
    for window, model_name in zip(CHURN_WINDOWS_DAYS, CHURN_MODELS, strict=True):
        found = champion_or_candidate(model_name, registry.client())
        if found is None:
            metadata[f"{model_name}_skipped"] = "nothing registered yet: nothing to assess"
            continue
        alias, version = found
        try:
            # The evaluation rows do not depend on the purge, which only trims training rows.
            split = split_window(churn, window, boundary_purge_days=0)
        except InsufficientHistory as too_short:
            metadata[f"{model_name}_skipped"] = str(too_short)
            continue
        rows = at_most(split.evaluation, config.max_rows, config.seed)
        ensemble = registry.load(model_name, alias).unwrap_python_model().ensemble
        with duckdb.get_connection() as con:
            sequences = sequences_for(con, rows)
        scores = ensemble.predict_proba(rows, sequences)
        report, found = _assess(
            config,
            model_name,
            alias,
            version,
            rows[split.label].to_numpy(),
            scores,
            watch_list_mask(scores).astype(np.int64),
            rows,
            also_judged={MEDIUM_OR_HIGHER: (scores >= MEDIUM_RISK).astype(np.int64)},
        )
        reports.append(report)
        metadata |= found
    return _write(duckdb, reports, metadata)


def warn_past_limits(
    duckdb: DuckDBResource, registry: ModelRegistry, model_names: Iterable[str]
) -> dg.AssetCheckResult:
    """Warns when a champion's latest report has a judged summary past its limit."""
    names = list(model_names)
    with duckdb.get_connection() as con:
        if not table_exists(con, "monitoring", TABLE.split(".")[1]):
            return dg.AssetCheckResult(
                passed=True,
                severity=dg.AssetCheckSeverity.WARN,
                description="no fairness report yet (no champion to assess)",
            )
        # Each gap comes with its attribute's base-rate ratio: a gap near it is the outcome's.
        rows = con.execute(
            'select f.model_name, f.model_version, f.attribute, f.metric, f.value, f."limit", '
            f"b.value as {BASE_RATE_RATIO} from {TABLE} f left join {TABLE} b "
            "on b.model_name = f.model_name and b.model_version = f.model_version "
            "and b.variant = f.variant and b.attribute = f.attribute "
            f"and b.metric = '{BASE_RATE_RATIO}' and b.\"group\" is null "
            "where f.model_name in (select unnest(?)) and f.variant = 'model' "
            "and f.within_limit = false order by f.model_name, f.attribute, f.metric",
            [names],
        ).pl()
    champions = pl.DataFrame(
        {"model_name": names, "model_version": [registry.version(n, CHAMPION) for n in names]},
        schema={"model_name": pl.String, "model_version": pl.String},
    )
    rows = rows.join(champions, on=["model_name", "model_version"], how="semi")
    description = (
        "every judged gap is within its limit"
        if rows.is_empty()
        else f"{rows.height} judged gap(s) past their limit"
    )
    return dg.AssetCheckResult(
        passed=rows.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "past_limits": dg.MetadataValue.md(
                rows.to_pandas().to_markdown(index=False, floatfmt=".3f") if rows.height else "none"
            )
        },
    )


@dg.asset_check(asset=engagement_fairness)
def engagement_fairness_within_limits(
    duckdb: DuckDBResource, registry: ModelRegistry
) -> dg.AssetCheckResult:
    """Warns (never blocks) when an engagement champion's demographic parity difference, equal
    opportunity difference or disparate impact ratio is past its configured limit."""
    return warn_past_limits(duckdb, registry, ENGAGEMENT_MODELS.values())


@dg.asset_check(asset=churn_fairness)
def churn_fairness_within_limits(
    duckdb: DuckDBResource, registry: ModelRegistry
) -> dg.AssetCheckResult:
    """Warns (never blocks) when a churn champion's demographic parity difference, equal
    opportunity difference or disparate impact ratio is past its configured limit."""
    return warn_past_limits(duckdb, registry, CHURN_MODELS)
