"""The churn domain's slice of the graph."""

import dagster as dg

from roi_assets.churn.assets import churn_evaluation, churn_model, churn_risk
from roi_assets.churn.checks import churn_validation_gates

defs = dg.Definitions(
    assets=[churn_model, churn_evaluation, churn_risk],
    asset_checks=churn_validation_gates,
)
