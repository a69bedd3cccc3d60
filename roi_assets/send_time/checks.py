"""The send-time validation gate, a blocking check: recommendations (and promotion) wait on it."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets.evaluation.gate import validation_gate
from roi_assets.evaluation.model_evaluations import TABLE
from roi_assets.resources.tracking import CANDIDATE, version_behind_alias
from roi_assets.send_time.assets import MODEL_NAME, send_time_evaluation

GATED_METRIC = "expected_open_rate"
# Evaluation rows per baseline: the DQN's rate next to the baseline's (in baseline_value), and the
# 95 % noise margin of the DQN's gain over it.
BASELINE_ROWS = {
    "historical best hour": (GATED_METRIC, f"{GATED_METRIC}_noise_margin"),
    "uniform random hour": (f"{GATED_METRIC}_vs_random", f"{GATED_METRIC}_vs_random_noise_margin"),
}


@dg.asset_check(asset=send_time_evaluation, blocking=True)
def send_time_validation_gate(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """Passes when the candidate's hours give held-out clients a higher expected open rate than
    both a random hour and their historically best hour, by more than the 95 % noise margin of
    that gain (which clients were held out is the only chance left in an exact evaluation). The
    oracle's rate is reported, not required: it knows each client's hidden preferred hour, of
    which a few dozen logged sends per client reveal little."""
    version = version_behind_alias(MODEL_NAME, CANDIDATE)
    metrics = {metric for pair in BASELINE_ROWS.values() for metric in pair}
    with duckdb.get_connection() as con:
        rows = {
            metric: con.execute(
                f"select value, oracle_value, baseline_value from {TABLE} "
                "where model_name = ? and model_version = ? and metric = ? "
                "order by evaluated_at desc limit 1",
                [MODEL_NAME, str(version), metric],
            ).fetchone()
            for metric in metrics
        }
    if any(row is None for row in rows.values()):
        return dg.AssetCheckResult(
            passed=False, description=f"{MODEL_NAME} v{version} has no evaluation"
        )
    decisions = {
        baseline: validation_gate(
            rows[rate][0],
            rows[rate][1],
            {baseline: rows[rate][2]},
            metric=GATED_METRIC,
            min_fraction_of_oracle=0.0,
            min_margin_over_baselines=rows[margin][0],
        )
        for baseline, (rate, margin) in BASELINE_ROWS.items()
    }
    return dg.AssetCheckResult(
        passed=all(decision.passed for decision in decisions.values()),
        metadata={
            f"vs {baseline}": dg.MetadataValue.md(decision.summary)
            for baseline, decision in decisions.items()
        },
    )
