"""Every registered model and the live evaluation it goes through (see `deployment.lifecycle`).

Models that decide what the world receives (send hours, content variants) are A/B tested on the
opens or clicks that land for each arm; the others are judged in shadow on matured labels.
"""

from roi_assets.catalog import (
    CHURN_WINDOWS_DAYS,
    CONTENT_BANDIT_MODEL,
    DOCUMENT_CLASSIFIER_MODEL,
    ENGAGEMENT_MODELS,
    SEND_TIME_MODEL,
    churn_model_name,
)
from roi_assets.churn.shadow import shadow_losses as churn_losses
from roi_assets.deployment.lifecycle import ModelFamily
from roi_assets.deployment.shadow import ShadowConfig
from roi_assets.documents.shadow import shadow_losses as document_losses
from roi_assets.engagement.shadow import shadow_losses as engagement_losses

# A churn label matures `window` days after its snapshot: the shadow test waits for two weeks of
# matured snapshots before it gives up.
_CHURN_PATIENCE_DAYS = 14

FAMILIES: tuple[ModelFamily, ...] = (
    ModelFamily(SEND_TIME_MODEL, "ab_test", engagement="opened_at"),
    ModelFamily(CONTENT_BANDIT_MODEL, "ab_test", engagement="clicked_at"),
    *(
        ModelFamily(name, "shadow", shadow_losses=engagement_losses(target), metric="log_loss")
        for target, name in ENGAGEMENT_MODELS.items()
    ),
    *(
        ModelFamily(
            churn_model_name(window),
            "shadow",
            shadow_losses=churn_losses(window),
            metric="log_loss",
            shadow=ShadowConfig(min_days=window, max_days=window + _CHURN_PATIENCE_DAYS),
        )
        for window in CHURN_WINDOWS_DAYS
    ),
    ModelFamily(
        DOCUMENT_CLASSIFIER_MODEL,
        "shadow",
        shadow_losses=document_losses,
        metric="error_rate",
        shadow=ShadowConfig(min_rows=50),
    ),
)
