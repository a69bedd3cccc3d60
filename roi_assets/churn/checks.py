"""The churn validation gates, one per window (see `churn.gate`): the 30-day window's blocks the
mart, the longer windows' only their own promotion."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets.churn.assets import churn_evaluation
from roi_assets.churn.ensemble import registered_model_name
from roi_assets.churn.features import PREDICTION_WINDOWS
from roi_assets.churn.gate import MEMBERS, window_decision
from roi_assets.resources.tracking import CANDIDATE, version_behind_alias

# The shortest horizon is the one retention acts on first; the mart waits for it.
HEADLINE_WINDOW = 30


def _window_check(window: int) -> dg.AssetChecksDefinition:
    model_name = registered_model_name(window)
    headline = window == HEADLINE_WINDOW
    name = "churn_validation_gate" if headline else f"churn_{window}d_validation_gate"
    consequence = (
        "otherwise nothing is promoted and the mart is not refreshed"
        if headline
        else "otherwise this window's candidate is not promoted and the mart leaves the window out "
        "until it has a champion, without holding back the other windows"
    )

    @dg.asset_check(
        name=name,
        asset=churn_evaluation,
        blocking=headline,
        required_resource_keys={"mlflow", "duckdb"},
        description=f"Passes when {model_name}'s candidate stack has ≥ 60 % of the oracle's AUC "
        "lift over chance on the evaluation window (a model told the hidden traits reaches "
        f"78-84 %) and is not below its best member's (forest or LSTM alone); {consequence}.",
    )
    def check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        duckdb: DuckDBResource = context.resources.duckdb
        version = version_behind_alias(model_name, CANDIDATE)
        with duckdb.get_connection() as con:
            decision = window_decision(con, model_name, version, MEMBERS)
        if decision is None:
            return dg.AssetCheckResult(
                passed=False, description=f"{model_name} candidate v{version} has no evaluation"
            )
        return dg.AssetCheckResult(
            passed=decision.passed, metadata={model_name: dg.MetadataValue.md(decision.summary)}
        )

    return check


churn_validation_gates = [_window_check(window) for window in PREDICTION_WINDOWS]
