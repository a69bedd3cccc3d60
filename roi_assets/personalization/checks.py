"""The content bandit's validation gate, a blocking check: assignments wait on it."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets.evaluation.gate import validation_gate
from roi_assets.evaluation.model_evaluations import TABLE
from roi_assets.personalization.assets import MODEL_NAME, personalization_evaluation
from roi_assets.personalization.report import ALL_FAMILIES
from roi_assets.personalization.store import stored_version

GATED_METRIC = f"simulated_ctr_{ALL_FAMILIES}"
# CTRs are a few percent, so the house margin of 0.01 would ask for +30 % or more; a tenth of a
# percentage point is a clear win at this scale and well above the simulation's noise (its
# policies share arrivals and coin flips and are scored by their true CTRs).
MIN_CTR_MARGIN = 0.001


@dg.asset_check(asset=personalization_evaluation, blocking=True)
def personalization_validation_gate(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """Passes when Thompson sampling's simulated CTR, averaged over the variant families, beats
    uniform random assignment by more than a tenth of a percentage point; otherwise no content
    is assigned."""
    with duckdb.get_connection() as con:
        version = stored_version(con)
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
