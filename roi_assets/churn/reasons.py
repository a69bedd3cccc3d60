"""Why a client is at risk: the forest's per-client SHAP contributions, told in plain words.

For each client the features whose SHAP contribution to the churn class is positive (they push the
risk up) are ranked, and the top few are phrased with the client's own values. When the client's
30-day daily sequence is given, activity phrases speak about what the client actually did
("logins fell 60 % in 30 days"); otherwise they quote the tabular feature. Percent changes compare
the first 10 days of the 30-day window with the last 10.

The explanation is of the forest, the member whose inputs are named features; the LSTM's sequence
inputs have no per-feature attribution that reads as well, so the reasons describe the tabular
evidence behind the stacked probability.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shap

from roi_assets.churn.ensemble import ChurnEnsemble
from roi_assets.churn.features import CHURN_FEATURES, DAILY_METRICS, SEQUENCE_DAYS, tabular_matrix

COMPARED_DAYS = 10


@dataclass(frozen=True)
class ClientFacts:
    """One client's tabular features and, when known, its 30 days of daily metrics."""

    features: Mapping[str, float]
    daily: Mapping[str, np.ndarray] | None

    def __getitem__(self, feature: str) -> float:
        return self.features[feature]


def _change(noun: str, series: np.ndarray) -> str:
    earlier, recent = series[:COMPARED_DAYS].sum(), series[-COMPARED_DAYS:].sum()
    if earlier == 0:
        return (
            f"no {noun} in {SEQUENCE_DAYS} days"
            if recent == 0
            else f"{noun} up from zero in {SEQUENCE_DAYS} days"
        )
    change = (recent - earlier) / earlier
    direction = "fell" if change < 0 else "rose"
    return f"{noun} {direction} {abs(change) * 100:.0f} % in {SEQUENCE_DAYS} days"


def _daily_or(
    metric: str, noun: str, fallback: Callable[[ClientFacts], str]
) -> Callable[[ClientFacts], str]:
    """Phrase from the daily metric when the sequence is known, else from the tabular feature."""

    def phrase(facts: ClientFacts) -> str:
        if facts.daily is None:
            return fallback(facts)
        return _change(noun, facts.daily[metric])

    return phrase


def _counted(count: float, singular: str, plural: str) -> str:
    """'1 search', '3 searches': counts read as numbers of things, not as measurements."""
    rounded = round(count)
    return f"{rounded} {singular if rounded == 1 else plural}"


def _support(facts: ClientFacts) -> str:
    # The sentiment feature averages the tickets of the last 90 days, the daily record spans 30:
    # each figure is quoted with its own period so that they never contradict each other.
    phrase = f"support ticket sentiment {facts['support_ticket_sentiment_score']:+.1f} over 90 days"
    if facts.daily is None:
        return phrase
    tickets = float(facts.daily["support_tickets"].sum())
    if tickets == 0:
        return phrase
    return f"{phrase}, {_counted(tickets, 'ticket', 'tickets')} in the last {SEQUENCE_DAYS}"


def _nps(facts: ClientFacts) -> str:
    score = facts["nps_score_if_available"]
    return "no NPS response" if score < 0 else f"NPS score {score:.0f}"


# The one place where features become words: feature → phrase built from the client's values.
REASON_PHRASES: dict[str, Callable[[ClientFacts], str]] = {
    "login_frequency_slope_30d": _daily_or(
        "logins",
        "logins",
        lambda f: f"login frequency trend {f['login_frequency_slope_30d']:+.2f} per day",
    ),
    "document_access_decline_rate": _daily_or(
        "document_views",
        "document views",
        lambda f: f"document access decline rate {f['document_access_decline_rate']:.2f}",
    ),
    "email_engagement_momentum": _daily_or(
        "emails_opened",
        "email opens",
        lambda f: f"email engagement momentum {f['email_engagement_momentum']:+.2f}",
    ),
    "feature_usage_diversity_change": _daily_or(
        "distinct_features_used",
        "distinct features used",
        lambda f: f"feature variety changed by {f['feature_usage_diversity_change']:+.1f}",
    ),
    "time_between_sessions_increase": lambda f: (
        f"time between sessions up {f['time_between_sessions_increase']:.1f} days"
    ),
    "support_ticket_sentiment_score": _support,
    "feature_request_count": lambda f: (
        _counted(f["feature_request_count"], "feature request", "feature requests") + " in 90 days"
    ),
    "nps_score_if_available": _nps,
    "feedback_form_completion": lambda f: (
        _counted(f["feedback_form_completion"], "feedback form", "feedback forms")
        + " completed in 90 days"
    ),
    "help_article_access_frequency": lambda f: (
        _counted(f["help_article_access_frequency"], "help-article view", "help-article views")
        + " in 30 days"
    ),
    "competitor_email_opens": lambda f: (
        _counted(f["competitor_email_opens"], "competitor email", "competitor emails")
        + " opened in 30 days"
    ),
    "price_comparison_searches": lambda f: (
        _counted(
            f["price_comparison_searches"], "price-comparison search", "price-comparison searches"
        )
        + " in 30 days"
    ),
    "contract_renewal_proximity": lambda f: (
        f"contract renews in {f['contract_renewal_proximity']:.0f} days"
    ),
    "market_volatility_index": lambda f: (
        f"market volatility index {f['market_volatility_index']:.2f}"
    ),
    "seasonal_churn_probability": lambda f: (
        f"seasonal churn probability {f['seasonal_churn_probability'] * 100:.0f} %"
    ),
    "unique_features_used": lambda f: (
        _counted(f["unique_features_used"], "feature", "features") + " ever used"
    ),
    "data_volume_uploaded_gb": lambda f: f"{f['data_volume_uploaded_gb']:.1f} GB uploaded",
    "team_members_invited": lambda f: (
        _counted(f["team_members_invited"], "team member", "team members") + " invited"
    ),
    "integration_count": lambda f: (
        _counted(f["integration_count"], "integration", "integrations") + " connected"
    ),
    "customization_level": lambda f: f"customisation level {f['customization_level']:.2f}",
}


def risk_contributions(ensemble: ChurnEnsemble, tabular: Any) -> np.ndarray:
    """(n, 20) SHAP contributions of each churn feature to the forest's churn probability."""
    if ensemble.forest_ is None:
        raise RuntimeError("the ensemble is not fitted")
    values = shap.TreeExplainer(ensemble.forest_).shap_values(tabular_matrix(tabular))
    # shap returns (n, features, classes) for sklearn classifiers; class 1 is churn.
    return np.asarray(values)[..., 1]


def top_reason_features(contributions: np.ndarray, top_k: int = 3) -> list[list[str]]:
    """Per client, the names of up to `top_k` features with the largest positive contributions,
    strongest first; features that lower the risk are never reasons."""
    ranked = np.argsort(-contributions, axis=1, kind="stable")[:, :top_k]
    return [
        [CHURN_FEATURES[j] for j in order if client[j] > 0]
        for order, client in zip(ranked, contributions, strict=True)
    ]


def explain_reasons(
    ensemble: ChurnEnsemble,
    tabular: Any,
    top_k: int = 3,
    *,
    sequences: np.ndarray | None = None,
    selected: np.ndarray | None = None,
) -> list[list[str]]:
    """Up to `top_k` readable reasons per client, strongest first; only risk-raising features.

    With `selected` (a boolean mask, e.g. the clients at medium risk or above), the other clients
    get no reasons and cost no SHAP time. With `sequences` (from `build_sequences`), activity
    reasons use the daily record.
    """
    features = tabular_matrix(tabular)
    if sequences is not None and len(sequences) != len(features):
        raise ValueError("tabular and sequences differ in length")
    reasons: list[list[str]] = [[] for _ in range(len(features))]
    explained = np.arange(len(features)) if selected is None else np.flatnonzero(selected)
    if len(explained) == 0:
        return reasons
    contributions = risk_contributions(ensemble, features[explained])
    for row, names in zip(explained, top_reason_features(contributions, top_k), strict=True):
        facts = ClientFacts(
            features=dict(zip(CHURN_FEATURES, features[row], strict=True)),
            daily=None
            if sequences is None
            else dict(zip(DAILY_METRICS, sequences[row].T, strict=True)),
        )
        reasons[row] = [REASON_PHRASES[name](facts) for name in names]
    return reasons
