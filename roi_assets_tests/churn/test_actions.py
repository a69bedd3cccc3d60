import numpy as np

from roi_assets.churn.actions import RETENTION_RULES, recommend_action, recommend_actions
from roi_assets.churn.features import CHURN_FEATURES


def _client(**values: float) -> dict[str, float]:
    """A client with no warning sign unless told otherwise."""
    client = dict.fromkeys(CHURN_FEATURES, 0.0)
    client.update(contract_renewal_proximity=200.0, support_ticket_sentiment_score=0.4)
    client.update(values)
    return client


def test_a_client_renewing_in_10_days_gets_the_renewal_offer_before_anything_else():
    client = _client(contract_renewal_proximity=10, support_ticket_sentiment_score=-0.8)

    assert recommend_action(client) == ("Make a renewal offer: the contract renews in 10 days")


def test_negative_support_sentiment_is_escalated_to_a_support_lead():
    assert recommend_action(_client(support_ticket_sentiment_score=-0.6)).startswith(
        "Escalate to a support lead"
    )


def test_competitor_signals_trigger_a_pricing_review():
    assert "competitive pricing" in recommend_action(_client(price_comparison_searches=3))


def test_falling_document_use_books_an_onboarding_session():
    assert "onboarding session" in recommend_action(_client(document_access_decline_rate=0.5))


def test_a_client_without_warning_signs_gets_an_account_manager_check_in():
    assert recommend_action(_client()) == "Account-manager check-in"
    assert RETENTION_RULES[-1].applies(_client())


def test_clients_outside_the_selection_get_no_action(world):
    actions = recommend_actions(world.churn.iloc[:3], selected=np.array([False, True, True]))

    assert actions[0] is None
    assert isinstance(actions[1], str) and isinstance(actions[2], str)
