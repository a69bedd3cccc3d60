"""The send-time domain's slice of the graph."""

import dagster as dg

from roi_assets.send_time.assets import (
    send_time_client_states,
    send_time_engagement_hours,
    send_time_evaluation,
    send_time_logged_sends,
    send_time_model,
    send_time_recommendations,
)
from roi_assets.send_time.checks import send_time_validation_gate

defs = dg.Definitions(
    assets=[
        send_time_client_states,
        send_time_logged_sends,
        send_time_engagement_hours,
        send_time_model,
        send_time_evaluation,
        send_time_recommendations,
    ],
    asset_checks=[send_time_validation_gate],
)
