"""The engagement model's inputs, taken from `features.feat_email_engagement` (docs/tables.md),
and its three targets: an open, a click and the email's action within 7 days of the send.

Features: the specification's 30 (booleans enter as 0/1 numbers), plus four the table offers that
carry signal the 30 miss: `hour_of_week` (the client's local hour-of-week, where opening habits
live) and the content variants `subject_line_variant`, `email_template` and `cta_style`.
Left out on purpose: `segment` (client_type × property_value_bracket, already both features) and
the protected attributes `age_group` and `client_value_tier`, never model features.

Categorical values are fixed by the table contract, so the one-hot layout does not depend on which
values a training window happens to contain; a value outside the contract is encoded like the
dropped reference (first) category, with a scikit-learn warning, instead of failing the scoring.
Scoring input is validated: a missing column, a wrong type or a missing value raises a ValueError
naming the column, never a silent wrong score.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from roi_assets.simulator import catalog

NUMERIC_FEATURES: tuple[str, ...] = (
    # temporal (client's local time)
    "hour_of_day",
    "day_of_week",
    "day_of_month",
    "is_weekend",
    "is_holiday",
    "days_since_last_open",
    "days_since_last_click",
    # engagement history
    "lifetime_open_rate",
    "recent_open_rate_7d",
    "recent_open_rate_30d",
    "click_through_rate",
    "avg_time_to_open_hours",
    "email_frequency_score",
    # client
    "account_age_days",
    # content
    "subject_length",
    "personalization_score",
    "urgency_indicators",
    "value_proposition_strength",
    "call_to_action_count",
    "image_count",
    # behaviour
    "login_frequency_weekly",
    "document_access_rate",
    "feature_adoption_score",
    "support_ticket_count",
    "referral_generated",
    # beyond the specification
    "hour_of_week",
)
CATEGORIES: dict[str, tuple[str, ...]] = {
    "property_value_bracket": catalog.PROPERTY_VALUE_BRACKETS,
    "transaction_stage": catalog.TRANSACTION_STAGES,
    "client_type": catalog.CLIENT_TYPES,
    "geographic_region": catalog.REGIONS,
    "preferred_communication": catalog.PREFERRED_COMMUNICATION,
    # beyond the specification
    **{catalog.VARIANT_COLUMNS[f]: v for f, v in catalog.CONTENT_VARIANTS.items()},
}
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(CATEGORIES)
ENGAGEMENT_FEATURES: tuple[str, ...] = (*NUMERIC_FEATURES, *CATEGORICAL_FEATURES)
# Columns after one-hot encoding with the first category of each feature dropped.
ENCODED_FEATURE_COUNT = len(NUMERIC_FEATURES) + sum(len(v) - 1 for v in CATEGORIES.values())

TARGETS: tuple[str, ...] = ("opened_within_7d", "clicked_within_7d", "acted_within_7d")
HEADLINE_TARGET = "opened_within_7d"
TIME_COLUMN = "sent_at"
SEND_ID = "send_id"
LABEL_COMPLETE = "label_complete"


def build_preprocessor() -> ColumnTransformer:
    """Scaled numeric features and one-hot categoricals (first category dropped)."""
    return ColumnTransformer(
        transformers=[
            ("num", StandardScaler(), list(NUMERIC_FEATURES)),
            (
                "cat",
                OneHotEncoder(
                    categories=[list(values) for values in CATEGORIES.values()],
                    drop="first",
                    handle_unknown="ignore",
                    sparse_output=False,
                ),
                list(CATEGORICAL_FEATURES),
            ),
        ]
    )


def _as_pandas(frame: pl.DataFrame | pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    if isinstance(frame, pl.DataFrame):
        return frame.select(columns).to_pandas()
    if isinstance(frame, pd.DataFrame):
        return frame[columns]
    raise TypeError(f"expected a polars or pandas DataFrame, got {type(frame).__name__}")


def _numeric_column(name: str, column: pd.Series) -> np.ndarray:
    if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
        raise ValueError(f"column {name!r} must be numeric or boolean, got {column.dtype}")
    values = column.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError(f"column {name!r} holds infinite values")
    return values


def _categorical_column(name: str, column: pd.Series) -> np.ndarray:
    values = column.astype(object).to_numpy()
    if pd.api.types.infer_dtype(values, skipna=False) != "string":
        raise ValueError(f"column {name!r} must hold strings (a categorical), got {column.dtype}")
    return values


def engagement_features(frame: pl.DataFrame | pd.DataFrame) -> pd.DataFrame:
    """The model's input frame: `ENGAGEMENT_FEATURES` in order, numbers as float64, categories as
    strings. Raises ValueError naming the column when one is missing, mistyped or has missing
    values."""
    missing = [name for name in ENGAGEMENT_FEATURES if name not in frame.columns]
    if missing:
        raise ValueError(f"missing feature column(s): {', '.join(missing)}")
    selected = _as_pandas(frame, list(ENGAGEMENT_FEATURES))
    columns: dict[str, Any] = {}
    for name in ENGAGEMENT_FEATURES:
        column = selected[name]
        absent = int(column.isna().sum())
        if absent:
            raise ValueError(f"column {name!r} has {absent} missing value(s) (null or NaN)")
        if name in CATEGORIES:
            columns[name] = _categorical_column(name, column)
        else:
            columns[name] = _numeric_column(name, column)
    return pd.DataFrame(columns, index=pd.RangeIndex(len(selected)))


def labelled_history(frame: pl.DataFrame | pd.DataFrame, target: str) -> pl.DataFrame:
    """The rows a model may learn from: label observed for the full 7 days, sorted by send time
    and, among sends of the same moment, by send id. The warehouse returns rows in no fixed
    order (dbt builds its tables in parallel), and the folds of the time-series search and the
    boosting's sums follow the row order: without the id, the same features trained different
    models in two builds of one world."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; expected one of {TARGETS}")
    history = frame if isinstance(frame, pl.DataFrame) else pl.from_pandas(frame)
    missing = [
        c for c in (TIME_COLUMN, SEND_ID, LABEL_COMPLETE, target) if c not in history.columns
    ]
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}")
    complete = history.filter(pl.col(LABEL_COMPLETE)).sort(TIME_COLUMN, SEND_ID)
    labels = complete[target]
    if labels.null_count() or not labels.is_in([0, 1]).all():
        raise ValueError(f"label {target!r} must be 0/1 on every label-complete row")
    return complete


def labels_of(rows: pl.DataFrame, target: str) -> np.ndarray:
    """A label column as a 0/1 integer array."""
    return rows[target].cast(pl.Int64).to_numpy()
