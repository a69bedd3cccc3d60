"""The names every domain shares: the warehouse tables the graph's assets are keyed by, and the
models' names in the MLflow registry.

A plain module (no Dagster assets), so that one domain can refer to another's tables and models
without importing its asset modules.
"""

import dagster as dg

# Feature tables dbt builds (asset keys follow the warehouse's schema.table).
EMAIL_FEATURES = dg.AssetKey(["features", "feat_email_engagement"])
CHURN_FEATURES = dg.AssetKey(["features", "feat_client_churn"])
CLIENT_DAILY = dg.AssetKey(["features", "feat_client_daily"])
SEND_TIME_STATES = dg.AssetKey(["features", "feat_send_time_state"])
SEND_TIME_LOGGED_SENDS = dg.AssetKey(["features", "feat_send_time_logged_sends"])
CLIENTS = dg.AssetKey(["staging", "stg_clients"])
SUBSCRIPTIONS = dg.AssetKey(["staging", "stg_subscriptions"])
LABELLED_DOCUMENTS = dg.AssetKey(["raw", "labelled_documents"])

# Marts the platform and BI read.
ENGAGEMENT_SCORES = dg.AssetKey(["marts", "engagement_scores"])
CHURN_RISK = dg.AssetKey(["marts", "churn_risk"])
DOCUMENT_CLASSIFICATIONS = dg.AssetKey(["marts", "document_classifications"])
SEND_TIME_RECOMMENDATIONS = dg.AssetKey(["marts", "send_time_recommendations"])
CONTENT_ASSIGNMENTS = dg.AssetKey(["marts", "content_assignments"])

# Registered models. Engagement: one per target column of feat_email_engagement.
ENGAGEMENT_MODELS = {
    "opened_within_7d": "roi-engagement-open",
    "clicked_within_7d": "roi-engagement-click",
    "acted_within_7d": "roi-engagement-action",
}
CHURN_WINDOWS_DAYS = (30, 60, 90)
SEND_TIME_MODEL = "roi-send-time-dqn"
CONTENT_BANDIT_MODEL = "roi-content-bandit"
DOCUMENT_CLASSIFIER_MODEL = "roi-document-classifier"
# Models that absorb every day's landed feedback into a new version (see deployment.lifecycle's
# online updates): the next day's version already learned from the drifted data.
ONLINE_LEARNING_MODELS = frozenset({CONTENT_BANDIT_MODEL})


def churn_model_name(window_days: int) -> str:
    """Name under which the churn ensemble of one window is registered, e.g. roi-churn-30d."""
    return f"roi-churn-{window_days}d"


CHURN_MODELS = tuple(churn_model_name(window) for window in CHURN_WINDOWS_DAYS)

# The labelled document archive's held-out share, fixed so that training and monitoring agree
# on which documents the classifier never saw. Half the archive: at the default scale's 104
# documents per type that is 52 per type, enough for a per-class F1 whose 95 % interval is about
# ±0.07 wide.
DOCUMENT_HELD_OUT_FRACTION = 0.5
DOCUMENT_SPLIT_SEED = 7
# Share of the latest sends the engagement models are evaluated on (never trained on).
ENGAGEMENT_EVALUATION_FRACTION = 0.2
