import numpy as np

from roi_assets.churn.features import CHURN_FEATURES, DAILY_METRICS
from roi_assets.churn.reasons import (
    REASON_PHRASES,
    ClientFacts,
    explain_reasons,
    top_reason_features,
)

from .synthetic import collapse_activity, with_activity_features


def _daily(**series: np.ndarray) -> dict[str, np.ndarray]:
    return {name: series.get(name, np.zeros(30)) for name in DAILY_METRICS}


def test_reasons_are_the_strongest_risk_raising_features_only():
    contributions = np.zeros((2, len(CHURN_FEATURES)))
    contributions[0, [0, 1, 2, 3]] = [0.2, -0.5, 0.1, 0.3]
    contributions[1, :] = -0.1
    contributions[1, 12] = 0.05

    reasons = top_reason_features(contributions, top_k=3)

    assert reasons[0] == [CHURN_FEATURES[3], CHURN_FEATURES[0], CHURN_FEATURES[2]]
    assert reasons[1] == ["contract_renewal_proximity"]


def test_every_churn_feature_has_a_phrase():
    assert set(REASON_PHRASES) == set(CHURN_FEATURES)


def test_phrases_quote_the_clients_own_values():
    features = dict.fromkeys(CHURN_FEATURES, 0.0)
    features.update(contract_renewal_proximity=12.0, support_ticket_sentiment_score=-0.6)
    logins = np.r_[np.ones(10), np.ones(10), [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]]
    tickets = np.r_[np.zeros(27), [1, 1, 1]]
    facts = ClientFacts(features, _daily(logins=logins, support_tickets=tickets))

    assert REASON_PHRASES["login_frequency_slope_30d"](facts) == "logins fell 60 % in 30 days"
    assert (
        REASON_PHRASES["support_ticket_sentiment_score"](facts)
        == "support ticket sentiment -0.6 over 90 days, 3 tickets in the last 30"
    )
    assert REASON_PHRASES["contract_renewal_proximity"](facts) == "contract renews in 12 days"


def test_a_client_without_tickets_in_the_last_30_days_is_not_told_of_zero_negative_tickets():
    features = dict.fromkeys(CHURN_FEATURES, 0.0)
    features.update(support_ticket_sentiment_score=-0.9, price_comparison_searches=1.0)
    facts = ClientFacts(features, _daily())

    assert (
        REASON_PHRASES["support_ticket_sentiment_score"](facts)
        == "support ticket sentiment -0.9 over 90 days"
    )
    assert (
        REASON_PHRASES["price_comparison_searches"](facts) == "1 price-comparison search in 30 days"
    )


def test_without_daily_sequences_phrases_quote_the_tabular_feature():
    features = dict.fromkeys(CHURN_FEATURES, 0.0)
    features["login_frequency_slope_30d"] = -0.25

    phrase = REASON_PHRASES["login_frequency_slope_30d"](ClientFacts(features, daily=None))

    assert phrase == "login frequency trend -0.25 per day"


def test_reasons_of_a_collapsing_client_mention_the_collapsing_activity(ensemble, world):
    last = world.churn["snapshot_date"] == world.churn["snapshot_date"].max()
    steady = np.flatnonzero(last.to_numpy() & ~world.disengaging)[:20]
    collapsed = collapse_activity(world.sequences[steady])
    tabular = with_activity_features(world.churn.iloc[steady], collapsed)

    reasons = explain_reasons(ensemble, tabular, top_k=3, sequences=collapsed)

    activity_words = ("logins", "document views", "features used", "between sessions")
    for client_reasons in reasons:
        assert 0 < len(client_reasons) <= 3
        assert any(word in reason for reason in client_reasons for word in activity_words)


def test_only_the_selected_clients_get_reasons(ensemble, world):
    rows = np.arange(40)
    selected = rows % 2 == 1

    reasons = explain_reasons(ensemble, world.churn.iloc[rows], selected=selected)

    assert all(reasons[i] == [] for i in rows[::2])
    assert all(len(reasons[i]) > 0 for i in rows[1::2])
