"""The engagement validation gates: the headline model's blocks scoring, the click and action
models' only their own promotion (see `engagement.gate`)."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets.engagement.assets import TARGETS, engagement_evaluation
from roi_assets.engagement.features import HEADLINE_TARGET
from roi_assets.engagement.gate import candidate_decision
from roi_assets.resources.tracking import CANDIDATE, version_behind_alias

CLICK_TARGET = "clicked_within_7d"
ACTION_TARGET = "acted_within_7d"


def _judge(duckdb: DuckDBResource, target: str) -> dg.AssetCheckResult:
    model_name = TARGETS[target]
    version = version_behind_alias(model_name, CANDIDATE)
    with duckdb.get_connection() as con:
        decision = candidate_decision(con, model_name, version)
    if decision is None:
        return dg.AssetCheckResult(
            passed=False, description=f"{model_name} v{version} has no evaluation"
        )
    return dg.AssetCheckResult(
        passed=decision.passed,
        metadata={model_name: dg.MetadataValue.md(decision.summary)},
    )


@dg.asset_check(asset=engagement_evaluation, blocking=True)
def engagement_validation_gate(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """Passes when the open model's candidate has ≥ 70 % of the oracle's AUC lift over chance on
    the evaluation window (the measured ceiling of the observable data is about 86 %), clearly
    above the best baseline and not above the oracle's (leakage); otherwise nothing is promoted
    and the mart is not refreshed."""
    return _judge(duckdb, HEADLINE_TARGET)


@dg.asset_check(asset=engagement_evaluation, blocking=False)
def engagement_click_validation_gate(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """The same rule for the click model's candidate. A failure keeps that candidate from
    promotion (the mart's p_click stays with the click champion, NULL while there is none) but
    does not hold back the open model's scores."""
    return _judge(duckdb, CLICK_TARGET)


@dg.asset_check(asset=engagement_evaluation, blocking=False)
def engagement_action_validation_gate(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """The same rule for the action model's candidate (the email's call to action taken within
    7 days); a failure keeps that candidate from promotion only (p_action stays with the action
    champion, NULL while there is none)."""
    return _judge(duckdb, ACTION_TARGET)
