"""Request and response bodies of the serving API.

Feature payloads are generated from the models' own column contracts (engagement, churn, send-time
state), so a column added to a model is a field here without a second list to keep in step.
Categoricals accept only the values of the table contract and numbers must be finite: a bad
payload is a 422 naming the field, never a model error.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, create_model, model_validator

from roi_assets.churn.features import CHURN_FEATURES, DAILY_METRICS, SEQUENCE_DAYS
from roi_assets.engagement.features import CATEGORIES, NUMERIC_FEATURES
from roi_assets.send_time.environment import HOURS_PER_WEEK, STATE_FEATURES

ClientId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", examples=["C0000042"])]
Source = Literal["batch", "cache", "model"]
Arm = Literal["champion", "challenger"]

_STRICT = ConfigDict(extra="forbid")
# Calendar bounds, which no valid send breaks; a value outside them is a client error. Rates get
# none: the table's open rates count every open, and a send opened twice exceeds 1.
_NUMERIC_BOUNDS: dict[str, tuple[float, float]] = {
    "hour_of_day": (0, 23),
    "day_of_week": (0, 6),
    "day_of_month": (1, 31),
    "hour_of_week": (0, HOURS_PER_WEEK - 1),
}


def _numeric_field(name: str) -> tuple[Any, Any]:
    low, high = _NUMERIC_BOUNDS.get(name, (None, None))
    return (FiniteFloat, Field(ge=low, le=high))


EngagementFeatures = create_model(
    "EngagementFeatures",
    __config__=_STRICT,
    **{name: _numeric_field(name) for name in NUMERIC_FEATURES},
    **{name: (Literal[values], ...) for name, values in CATEGORIES.items()},
)
ChurnFeatures = create_model(
    "ChurnFeatures", __config__=_STRICT, **{name: (FiniteFloat, ...) for name in CHURN_FEATURES}
)
DailyActivity = create_model(
    "DailyActivity", __config__=_STRICT, **{name: (FiniteFloat, ...) for name in DAILY_METRICS}
)


class ServedBy(BaseModel):
    """Which model answered, in every response: the version, the experiment arm, and whether the
    answer came from the batch mart, the TTL cache or a model run."""

    client_id: str | None = None
    model_name: str
    model_version: str
    arm: Arm
    source: Source
    request_id: str


class EngagementRequest(BaseModel):
    model_config = _STRICT
    client_id: ClientId
    features: EngagementFeatures | None = Field(  # type: ignore[valid-type]
        default=None,
        description="Every feature of features.feat_email_engagement for the email to score; "
        "without it the client's row of features.feat_email_scoring (an email sent now) is used.",
    )


class EngagementResponse(ServedBy):
    p_open: float
    p_click: float | None = Field(default=None, description="From the batch mart only.")


class ChurnRequest(BaseModel):
    model_config = _STRICT
    client_id: ClientId
    features: ChurnFeatures | None = None  # type: ignore[valid-type]
    daily: list[DailyActivity] | None = Field(  # type: ignore[valid-type]
        default=None,
        min_length=SEQUENCE_DAYS,
        max_length=SEQUENCE_DAYS,
        description=f"The {SEQUENCE_DAYS} days before the snapshot, oldest first.",
    )

    @model_validator(mode="after")
    def _features_come_with_their_days(self) -> ChurnRequest:
        if (self.features is None) != (self.daily is None):
            raise ValueError("features and daily are given together (the model reads both)")
        return self


class ChurnResponse(ServedBy):
    window_days: int = 30
    probability: float
    tier: str
    top_reasons: list[str]
    recommended_action: str | None


class SendTimeRequest(BaseModel):
    model_config = _STRICT
    client_id: ClientId
    state: list[FiniteFloat] | None = Field(
        default=None,
        min_length=len(STATE_FEATURES),
        max_length=len(STATE_FEATURES),
        description="The client's state in the order of send_time.environment.STATE_FEATURES.",
    )


class SendTimeResponse(ServedBy):
    best_hour_of_week_local: int = Field(description="0 = Monday 00:00 in the client's time.")
    best_hour_of_week_utc: int | None = None
    expected_open_probability: float


class ContentRequest(BaseModel):
    model_config = _STRICT
    client_id: ClientId


class ContentResponse(ServedBy):
    segment: str
    variants: dict[str, str]
    posterior_means: dict[str, float]


class DocumentResponse(ServedBy):
    document_sha256: str
    predicted_type: str
    confidence: float
    needs_review: bool
    ocr_engine: str
    entities: dict[str, list[str | float]]


class ModelVersions(BaseModel):
    champion: str | None
    challenger: str | None
    challenger_share: float


class Health(BaseModel):
    status: Literal["ok"]
    models: dict[str, ModelVersions]
    batch_clients: dict[str, int]
