"""The churn validation gate, a blocking check: promotion and scoring wait on it."""

import math

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets.churn.assets import (
    CANDIDATE,
    MEMBERS,
    REGISTRY_AND_WAREHOUSE,
    churn_evaluation,
)
from roi_assets.churn.ensemble import registered_model_name
from roi_assets.churn.features import PREDICTION_WINDOWS
from roi_assets.evaluation.gate import GateDecision, validation_gate
from roi_assets.evaluation.model_evaluations import TABLE
from roi_assets.resources.tracking import version_behind_alias
from roi_assets.resources.warehouse import table_exists

# How far the stack's AUC may fall below its best member's. When one member carries the signal,
# the meta-learner leans on it and the two rank the rows almost alike; a difference of a thousandth
# or two is then a tie, ten times smaller than the standard error of an AUC over a few hundred
# churners. Anything larger counts as a loss.
STACK_AUC_TOLERANCE = 0.002


def window_gate(stack_auc: float, oracle_auc: float, member_aucs: dict[str, float]) -> GateDecision:
    """The stack must reach 97 % of the oracle's AUC and at least its best member's AUC."""
    return validation_gate(
        stack_auc, oracle_auc, member_aucs, min_margin_over_baselines=-STACK_AUC_TOLERANCE
    )


def _number(stored: float | None) -> float:
    """Undefined metrics are stored as NULL; the gate reads them as NaN, which never passes."""
    return math.nan if stored is None else stored


@dg.asset_check(
    asset=churn_evaluation, blocking=True, required_resource_keys=REGISTRY_AND_WAREHOUSE
)
def churn_validation_gate(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    """Passes when, for every window, the candidate stack's AUC on the evaluation window is
    ≥ 97 % of the oracle's and not below its best member's (forest or LSTM alone); otherwise no
    candidate is promoted and the mart is not refreshed."""
    duckdb: DuckDBResource = context.resources.duckdb
    auc_metrics = ["auc_roc", *(f"{member}_auc_roc" for member in MEMBERS)]
    decisions: dict[str, str] = {}
    passed = True
    with duckdb.get_connection() as con:
        evaluated = table_exists(con, *TABLE.split("."))
        for window in PREDICTION_WINDOWS:
            model_name = registered_model_name(window)
            version = version_behind_alias(model_name, CANDIDATE)
            found = {
                metric: (_number(value), _number(oracle_value))
                for metric, value, oracle_value in (
                    con.execute(
                        f"select metric, value, oracle_value from {TABLE} "
                        "where model_name = ? and model_version = ? and metric in (?, ?, ?) "
                        "qualify row_number() over "
                        "(partition by metric order by evaluated_at desc) = 1",
                        [model_name, str(version), *auc_metrics],
                    ).fetchall()
                    if evaluated and version is not None
                    else []
                )
            }
            if len(found) < len(auc_metrics):
                passed = False
                decisions[model_name] = f"{model_name} candidate v{version} has no evaluation"
                continue
            stack_auc, oracle_auc = found["auc_roc"]
            decision = window_gate(
                stack_auc,
                oracle_auc,
                {member: found[f"{member}_auc_roc"][0] for member in MEMBERS},
            )
            passed = passed and decision.passed
            decisions[model_name] = decision.summary
    return dg.AssetCheckResult(
        passed=passed,
        metadata={name: dg.MetadataValue.md(summary) for name, summary in decisions.items()},
    )
