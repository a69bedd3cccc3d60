"""The product's vocabularies: categorical values shared by simulator, contracts and features."""

from __future__ import annotations

CLIENT_TYPES = ("buyer", "seller", "both")
PROPERTY_VALUE_BRACKETS = ("under_250k", "250k_500k", "500k_1m", "over_1m")
TRANSACTION_STAGES = ("prospecting", "searching", "under_contract", "closing", "post_close")
PREFERRED_COMMUNICATION = ("email", "text", "phone")
AGE_GROUPS = ("18-34", "35-49", "50-64", "65+")
CLIENT_VALUE_TIERS = ("standard", "premium", "enterprise")

# Region → IANA time zone: hour-of-week effects live in the client's local time.
REGION_TIME_ZONES = {
    "northeast": "America/New_York",
    "southeast": "America/New_York",
    "midwest": "America/Chicago",
    "southwest": "America/Phoenix",
    "mountain": "America/Denver",
    "west": "America/Los_Angeles",
}
REGIONS = tuple(REGION_TIME_ZONES)

CONTENT_VARIANTS = {
    "subject_line": (
        "professional_formal",
        "friendly_casual",
        "urgent_action",
        "value_focused",
        "personalized_dynamic",
    ),
    "email_template": ("minimal_text", "visual_rich", "data_driven", "story_based", "interactive"),
    "cta_style": (
        "button_prominent",
        "text_link",
        "multiple_options",
        "single_focus",
        "progressive_disclosure",
    ),
}
# Column of raw.email_sends that carries each variant family.
VARIANT_COLUMNS = {
    "subject_line": "subject_line_variant",
    "email_template": "email_template",
    "cta_style": "cta_style",
}

PLATFORM_FEATURES = (
    "document_vault",
    "e_signature",
    "transaction_timeline",
    "client_portal",
    "market_reports",
    "showing_scheduler",
    "offer_builder",
    "task_checklists",
    "shared_folders",
    "mobile_app",
    "custom_branding",
    "workflow_automation",
)
CUSTOMIZATION_FEATURES = ("custom_branding", "workflow_automation")

USER_EVENT_TYPES = (
    "login",
    "document_view",
    "document_upload",
    "feature_use",
    "support_ticket",
    "help_article_view",
    "feature_request",
    "nps_response",
    "feedback_form",
    "referral",
    "team_invite",
    "integration_connected",
    "competitor_email_open",
    "price_comparison_search",
)
EMAIL_EVENT_TYPES = ("open", "click", "action")
PLANS = ("basic", "pro", "team")


def segment_of(client_type: str, property_value_bracket: str) -> str:
    """Segments the content personalizer learns per: client type × property value bracket."""
    return f"{client_type}_{property_value_bracket}"


SEGMENTS = tuple(segment_of(t, b) for t in CLIENT_TYPES for b in PROPERTY_VALUE_BRACKETS)
