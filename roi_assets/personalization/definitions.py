"""The personalization domain's slice of the graph."""

import dagster as dg

from roi_assets.personalization.assets import (
    content_assignments,
    content_posteriors,
    personalization_evaluation,
)
from roi_assets.personalization.checks import personalization_validation_gate

defs = dg.Definitions(
    assets=[content_posteriors, personalization_evaluation, content_assignments],
    asset_checks=[personalization_validation_gate],
)
