"""Retention actions: one rule table, read top to bottom, first matching rule wins.

Account managers own this table; keep it readable. Each rule looks at the client's churn features
(feat_client_churn columns) and names one action; its text may quote those values with
`str.format` fields. The last rule always matches, so every client gets an action.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from roi_assets.churn.features import CHURN_FEATURES, tabular_matrix

RENEWAL_HORIZON_DAYS = 30
NEGATIVE_SENTIMENT = -0.2
COMPETITOR_SIGNALS = 2  # competitor email opens or price-comparison searches
FALLING_DOCUMENT_USE = 0.3  # document_access_decline_rate


@dataclass(frozen=True)
class RetentionRule:
    name: str
    applies: Callable[[Mapping[str, float]], bool]
    action: str


RETENTION_RULES: tuple[RetentionRule, ...] = (
    RetentionRule(
        "renewal_due",
        lambda c: c["contract_renewal_proximity"] <= RENEWAL_HORIZON_DAYS,
        "Make a renewal offer: the contract renews in {contract_renewal_proximity:.0f} days",
    ),
    RetentionRule(
        "unhappy_with_support",
        lambda c: c["support_ticket_sentiment_score"] < NEGATIVE_SENTIMENT,
        "Escalate to a support lead: recent tickets are negative "
        "(sentiment {support_ticket_sentiment_score:+.1f})",
    ),
    RetentionRule(
        "shopping_around",
        lambda c: (
            max(c["competitor_email_opens"], c["price_comparison_searches"]) >= COMPETITOR_SIGNALS
        ),
        "Run a competitive pricing review: the client is comparing offers",
    ),
    RetentionRule(
        "falling_document_use",
        lambda c: (
            c["document_access_decline_rate"] >= FALLING_DOCUMENT_USE
            or c["login_frequency_slope_30d"] < 0
        ),
        "Book an onboarding session to bring document use back",
    ),
    RetentionRule("check_in", lambda c: True, "Account-manager check-in"),
)


def matching_rule(client: Mapping[str, float]) -> RetentionRule:
    """The first rule of RETENTION_RULES that applies to the client."""
    return next(rule for rule in RETENTION_RULES if rule.applies(client))


def recommend_action(client: Mapping[str, float]) -> str:
    """The recommended retention action for one client (a mapping of churn features)."""
    return matching_rule(client).action.format(**client)


def recommend_actions(tabular: Any, selected: np.ndarray | None = None) -> list[str | None]:
    """One action per row of a features frame; None outside `selected` when that boolean mask is
    given (clients no one is asked to act on need no retention effort)."""
    features = tabular_matrix(tabular)
    needs_action = np.ones(len(features), dtype=bool) if selected is None else np.asarray(selected)
    return [
        recommend_action(dict(zip(CHURN_FEATURES, row, strict=True))) if flagged else None
        for row, flagged in zip(features, needs_action, strict=True)
    ]
