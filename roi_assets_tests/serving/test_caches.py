"""Batch answers from the marts for known clients, the TTL cache for repeated payloads."""

from __future__ import annotations

import pytest

from .conftest import KNOWN_CLIENTS, MART_P_OPEN, churn_payload


def test_a_known_client_is_answered_from_the_mart_without_a_model_run(client):
    body = client.post("/v1/engagement/score", json={"client_id": KNOWN_CLIENTS[1]}).json()
    assert body["source"] == "batch"
    assert (body["p_open"], body["p_click"], body["model_version"]) == (MART_P_OPEN, 0.03, "1")


def test_a_repeated_payload_is_answered_from_the_ttl_cache(client, engagement_payload):
    request = {"client_id": "c0005", "features": engagement_payload(7)}
    first = client.post("/v1/engagement/score", json=request).json()
    second = client.post("/v1/engagement/score", json=request).json()
    assert (first["source"], second["source"]) == ("model", "cache")
    assert second["p_open"] == first["p_open"]
    other = {"client_id": "c0005", "features": engagement_payload(8)}
    assert client.post("/v1/engagement/score", json=other).json()["source"] == "model"


def test_an_expired_entry_is_computed_again(serving_config, engagement_payload):
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from roi_assets.serving.app import create_app

    from .conftest import API_KEY

    config = replace(serving_config, cache_ttl_seconds=1e-9)
    with TestClient(create_app(config), headers={"X-API-Key": API_KEY}) as fresh:
        request = {"client_id": "c0005", "features": engagement_payload(7)}
        sources = [fresh.post("/v1/engagement/score", json=request).json()["source"] for _ in "ab"]
    assert sources == ["model", "model"]


def test_churn_from_the_mart_carries_tier_reasons_and_action(client):
    body = client.post("/v1/churn/risk", json={"client_id": KNOWN_CLIENTS[0]}).json()
    assert body["source"] == "batch"
    assert (body["tier"], body["top_reasons"], body["recommended_action"]) == (
        "high",
        ["logins fell 80 %"],
        "call the client",
    )


@pytest.mark.parametrize(("first_feature", "tier"), [(0.1, "low"), (0.85, "critical")])
def test_churn_from_features_runs_the_model_with_tier_and_action(client, first_feature, tier):
    body = client.post(
        "/v1/churn/risk", json={"client_id": "c0099", **churn_payload(first_feature)}
    ).json()
    assert (body["source"], body["tier"]) == ("model", tier)
    assert body["probability"] == pytest.approx(first_feature)
    assert (body["recommended_action"] is None) == (tier == "low")


def test_send_time_from_the_mart_and_from_a_state(client):
    batch = client.post("/v1/send-time/best", json={"client_id": KNOWN_CLIENTS[0]}).json()
    assert (batch["source"], batch["best_hour_of_week_local"]) == ("batch", 34)
    computed = client.post(
        "/v1/send-time/best", json={"client_id": "c0099", "state": [0.5] * 20}
    ).json()
    assert computed["source"] == "model"
    assert 0 <= computed["best_hour_of_week_local"] < 168
    assert 0.0 <= computed["expected_open_probability"] <= 1.0


def test_content_choice_comes_from_the_assignments_mart(client):
    body = client.post("/v1/content/choose", json={"client_id": KNOWN_CLIENTS[2]}).json()
    assert body["variants"] == {
        "subject_line": "friendly_casual",
        "email_template": "minimal_text",
        "cta_style": "text_link",
    }
    assert (body["model_name"], body["model_version"]) == ("roi-content-bandit", "17")


def test_an_unknown_client_without_features_is_a_404(client):
    answer = client.post("/v1/churn/risk", json={"client_id": "nobody"})
    assert answer.status_code == 404
    assert "send features" in answer.json()["detail"]
