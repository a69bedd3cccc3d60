"""The document classifier's validation gate, a blocking check: promotion waits on it."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets.documents.assets import MODEL_NAME, document_classifier_evaluation
from roi_assets.documents.gate import recorded_verdict
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.tracking import CANDIDATE


@dg.asset_check(asset=document_classifier_evaluation, blocking=True)
def document_classifier_validation_gate(
    duckdb: DuckDBResource, registry: ModelRegistry
) -> dg.AssetCheckResult:
    """Passes when the candidate's held-out accuracy is ≥ 97 % of the oracle's (1.0) and clearly
    above the majority class, every tested type reaches the specification's F1 of 0.85, and the
    combination is no worse than TF-IDF alone or the page CNN alone; otherwise the candidate is
    not promoted."""
    version = registry.version(MODEL_NAME, CANDIDATE)
    with duckdb.get_connection() as con:
        decision = recorded_verdict(con, MODEL_NAME, version)
    if decision is None:
        return dg.AssetCheckResult(
            passed=False, description=f"{MODEL_NAME} v{version} has no evaluation"
        )
    return dg.AssetCheckResult(
        passed=decision.passed,
        metadata={"version": str(version), "gate": dg.MetadataValue.md(decision.summary)},
    )
