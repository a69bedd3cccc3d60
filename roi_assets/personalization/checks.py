"""The content bandit's validation gate, a blocking check: assignments wait on it."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets.personalization.assets import MODEL_NAME, personalization_evaluation
from roi_assets.personalization.gate import candidate_decision
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.tracking import CANDIDATE


@dg.asset_check(asset=personalization_evaluation, blocking=True)
def personalization_validation_gate(
    duckdb: DuckDBResource, registry: ModelRegistry
) -> dg.AssetCheckResult:
    """Passes when the candidate snapshot's choices (averaged over the variant families) beat
    uniform random assignment by more than a tenth of a percentage point of CTR; otherwise the
    candidate is not admitted and no content is assigned."""
    version = registry.version(MODEL_NAME, CANDIDATE)
    with duckdb.get_connection() as con:
        decision = candidate_decision(con, version)
    if decision is None:
        return dg.AssetCheckResult(
            passed=False, description=f"{MODEL_NAME} v{version} has no evaluation"
        )
    return dg.AssetCheckResult(
        passed=decision.passed, metadata={MODEL_NAME: dg.MetadataValue.md(decision.summary)}
    )
