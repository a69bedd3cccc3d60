"""The engagement domain's slice of the graph."""

import dagster as dg

from roi_assets.engagement.assets import engagement_evaluation, engagement_model, engagement_scores
from roi_assets.engagement.checks import (
    engagement_action_validation_gate,
    engagement_click_validation_gate,
    engagement_validation_gate,
)

defs = dg.Definitions(
    assets=[engagement_model, engagement_evaluation, engagement_scores],
    asset_checks=[
        engagement_validation_gate,
        engagement_click_validation_gate,
        engagement_action_validation_gate,
    ],
)
