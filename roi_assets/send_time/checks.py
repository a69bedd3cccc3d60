"""The send-time validation gate, a blocking check: recommendations (and promotion) wait on it."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets.resources.tracking import CANDIDATE, version_behind_alias
from roi_assets.send_time.assets import MODEL_NAME, send_time_evaluation
from roi_assets.send_time.gate import gate_verdict


@dg.asset_check(asset=send_time_evaluation, blocking=True)
def send_time_validation_gate(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """Passes when the candidate's hours give held-out clients a higher expected open rate than a
    random hour, their historically best hour and their most frequent engagement hour, by more
    than the 95 % noise margin of each gain (`gate`). The oracle's rate is reported, not required.

    A failure blocks the recommendations (ERROR) unless the engagement-hour baseline beats the
    population's best hour beyond its noise margin: then it is a warning, and the mart runs to
    publish that baseline in the DQN's place, without promoting the candidate."""
    version = version_behind_alias(MODEL_NAME, CANDIDATE)
    with duckdb.get_connection() as con:
        verdict = gate_verdict(con, MODEL_NAME, str(version))
    if verdict.decisions is None:
        return dg.AssetCheckResult(
            passed=False, description=f"{MODEL_NAME} v{version} has no evaluation"
        )
    metadata = {
        f"vs {baseline}": dg.MetadataValue.md(decision.summary)
        for baseline, decision in verdict.decisions.items()
    }
    if verdict.fallback is not None:
        metadata["engagement hour vs population best hour"] = dg.MetadataValue.md(
            verdict.fallback.summary
        )
    return dg.AssetCheckResult(
        passed=verdict.passed,
        severity=dg.AssetCheckSeverity.WARN
        if verdict.publishes_fallback
        else dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
    )
