"""The content bandit's validation gate, a blocking check: assignments wait on it."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets.evaluation.gate import validation_gate
from roi_assets.evaluation.model_evaluations import TABLE
from roi_assets.personalization.assets import MODEL_NAME, personalization_evaluation
from roi_assets.personalization.report import ALL_FAMILIES
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.tracking import CANDIDATE

# What serves: the variant with the highest posterior mean per segment, scored on the true CTRs
# (the evaluation module reads them), not a fresh simulation of Thompson sampling.
GATED_METRIC = f"posterior_choice_ctr_{ALL_FAMILIES}"
# CTRs are a few percent, so the house margin of 0.01 would ask for +30 % or more; a tenth of a
# percentage point is a clear win at this scale (uniform random is the average of the variants'
# CTRs, so the margin is the lift of choosing over not choosing).
MIN_CTR_MARGIN = 0.001


@dg.asset_check(asset=personalization_evaluation, blocking=True)
def personalization_validation_gate(
    duckdb: DuckDBResource, registry: ModelRegistry
) -> dg.AssetCheckResult:
    """Passes when the candidate snapshot's choices (averaged over the variant families) beat
    uniform random assignment by more than a tenth of a percentage point of CTR; otherwise the
    candidate is not admitted and no content is assigned."""
    version = registry.version(MODEL_NAME, CANDIDATE)
    with duckdb.get_connection() as con:
        row = con.execute(
            f"select value, oracle_value, baseline_value from {TABLE} "
            "where model_name = ? and model_version = ? and metric = ? "
            "order by evaluated_at desc limit 1",
            [MODEL_NAME, version, GATED_METRIC],
        ).fetchone()
    if row is None:
        return dg.AssetCheckResult(
            passed=False, description=f"{MODEL_NAME} v{version} has no evaluation"
        )
    decision = validation_gate(
        row[0],
        row[1],
        {"uniform random": row[2]},
        metric=GATED_METRIC,
        min_fraction_of_oracle=0.0,
        min_margin_over_baselines=MIN_CTR_MARGIN,
    )
    return dg.AssetCheckResult(
        passed=decision.passed, metadata={MODEL_NAME: dg.MetadataValue.md(decision.summary)}
    )
