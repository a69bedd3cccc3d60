"""The engagement validation gate, a blocking check: scoring (and promotion) waits on it."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets.engagement.assets import CANDIDATE, TARGETS, engagement_evaluation
from roi_assets.evaluation.gate import validation_gate
from roi_assets.evaluation.model_evaluations import TABLE
from roi_assets.resources.tracking import version_behind_alias


@dg.asset_check(asset=engagement_evaluation, blocking=True)
def engagement_validation_gate(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """Passes when each candidate's AUC is ≥ 97 % of the oracle's on the evaluation window and
    clearly above the best baseline; otherwise the candidate is not promoted and not scored."""
    decisions = {}
    with duckdb.get_connection() as con:
        for model_name in TARGETS.values():
            version = version_behind_alias(model_name, CANDIDATE)
            row = con.execute(
                f"select value, oracle_value, baseline_value from {TABLE} "
                "where model_name = ? and model_version = ? and metric = 'auc_roc' "
                "order by evaluated_at desc limit 1",
                [model_name, str(version)],
            ).fetchone()
            if row is None:
                return dg.AssetCheckResult(
                    passed=False, description=f"{model_name} v{version} has no evaluation"
                )
            decisions[model_name] = validation_gate(row[0], row[1], {"best baseline": row[2]})
    return dg.AssetCheckResult(
        passed=all(d.passed for d in decisions.values()),
        metadata={name: dg.MetadataValue.md(d.summary) for name, d in decisions.items()},
    )
