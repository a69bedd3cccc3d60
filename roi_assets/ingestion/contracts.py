"""Written contracts of the landing-zone sources: what a row must look like to enter `raw.*`.

A contract names each column's type, whether it is required, and its allowed values or range.
BI and dbt may rely on every `raw.*` row satisfying its contract; rows that do not are kept in
`raw.quarantine` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from roi_assets.simulator import catalog


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type: VARCHAR, BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP
    required: bool = True
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Contract:
    source: str  # folder under the landing zone
    table: str  # table in the raw schema
    file_format: str  # csv | parquet | jsonl
    columns: tuple[Column, ...]
    description: str

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


CONTRACTS: dict[str, Contract] = {
    c.table: c
    for c in (
        Contract(
            "clients",
            "clients",
            "csv",
            (
                Column("client_id", "VARCHAR"),
                Column("signup_date", "DATE"),
                Column("client_type", "VARCHAR", allowed=catalog.CLIENT_TYPES),
                Column(
                    "property_value_bracket", "VARCHAR", allowed=catalog.PROPERTY_VALUE_BRACKETS
                ),
                Column("transaction_stage", "VARCHAR", allowed=catalog.TRANSACTION_STAGES),
                Column("geographic_region", "VARCHAR", allowed=catalog.REGIONS),
                Column(
                    "timezone", "VARCHAR", allowed=tuple(set(catalog.REGION_TIME_ZONES.values()))
                ),
                Column(
                    "preferred_communication", "VARCHAR", allowed=catalog.PREFERRED_COMMUNICATION
                ),
                Column("age_group", "VARCHAR", allowed=catalog.AGE_GROUPS),
                Column("client_value_tier", "VARCHAR", allowed=catalog.CLIENT_VALUE_TIERS),
                Column("email", "VARCHAR", required=False),
            ),
            "CRM export: one row per client with profile attributes.",
        ),
        Contract(
            "subscriptions",
            "subscriptions",
            "csv",
            (
                Column("subscription_id", "VARCHAR"),
                Column("client_id", "VARCHAR"),
                Column("plan", "VARCHAR", allowed=catalog.PLANS),
                Column("monthly_fee", "DOUBLE", minimum=0),
                Column("started_at", "TIMESTAMP"),
                Column("term_months", "BIGINT", minimum=1),
                Column("cancelled_at", "TIMESTAMP", required=False),
            ),
            "Billing export: contract start, term and cancellation (churn) per subscription.",
        ),
        Contract(
            "market_index",
            "market_index",
            "csv",
            (
                Column("geographic_region", "VARCHAR", allowed=catalog.REGIONS),
                Column("week_start", "DATE"),
                Column("volatility_index", "DOUBLE"),
            ),
            "Analytics feed: weekly housing-market volatility index per region.",
        ),
        Contract(
            "email_sends",
            "email_sends",
            "parquet",
            (
                Column("send_id", "VARCHAR"),
                Column("client_id", "VARCHAR"),
                Column("campaign_id", "VARCHAR", required=False),
                Column("sent_at", "TIMESTAMP"),
                Column("subject_length", "BIGINT", minimum=1),
                Column("personalization_score", "DOUBLE", minimum=0, maximum=1),
                Column("urgency_indicators", "BOOLEAN"),
                Column("value_proposition_strength", "DOUBLE", minimum=0, maximum=1),
                Column("call_to_action_count", "BIGINT", minimum=0),
                Column("image_count", "BIGINT", minimum=0),
                Column(
                    "subject_line_variant",
                    "VARCHAR",
                    allowed=catalog.CONTENT_VARIANTS["subject_line"],
                ),
                Column(
                    "email_template", "VARCHAR", allowed=catalog.CONTENT_VARIANTS["email_template"]
                ),
                Column("cta_style", "VARCHAR", allowed=catalog.CONTENT_VARIANTS["cta_style"]),
            ),
            "Email service: one row per email sent, with content attributes and variants (UTC).",
        ),
        Contract(
            "email_events",
            "email_events",
            "jsonl",
            (
                Column("event_id", "VARCHAR"),
                Column("send_id", "VARCHAR"),
                Column("client_id", "VARCHAR"),
                Column("event_type", "VARCHAR", allowed=catalog.EMAIL_EVENT_TYPES),
                Column("occurred_at", "TIMESTAMP"),
            ),
            "Email service webhooks: opens, clicks and actions (may repeat; staging deduplicates).",
        ),
        Contract(
            "user_events",
            "user_events",
            "parquet",
            (
                Column("event_id", "BIGINT"),
                Column("client_id", "VARCHAR"),
                Column("event_type", "VARCHAR", allowed=catalog.USER_EVENT_TYPES),
                Column("occurred_at", "TIMESTAMP"),
                Column(
                    "feature_name", "VARCHAR", required=False, allowed=catalog.PLATFORM_FEATURES
                ),
                Column("sentiment", "DOUBLE", required=False, minimum=-1, maximum=1),
                Column("nps_score", "DOUBLE", required=False, minimum=0, maximum=10),
                Column("size_mb", "DOUBLE", required=False, minimum=0),
                Column("duration_minutes", "DOUBLE", required=False, minimum=0),
            ),
            "Product analytics: logins, document use, support, feedback and market signals (UTC).",
        ),
    )
}
