"""What the API refuses: bad payloads (422), missing keys (401), large or odd uploads; and what it
records: Prometheus metrics and the request log."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from .conftest import KNOWN_CLIENTS


def _fields(answer) -> set[str]:
    return {problem["field"] for problem in answer.json()["detail"]}


def test_a_feature_out_of_its_contract_is_a_422_naming_the_field(client, engagement_payload):
    features = engagement_payload(0) | {"hour_of_day": 31, "client_type": "alien"}
    answer = client.post("/v1/engagement/score", json={"client_id": "c1", "features": features})
    assert answer.status_code == 422
    assert _fields(answer) == {"features.hour_of_day", "features.client_type"}
    assert answer.json()["request_id"] == answer.headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "client_id"),
        ({"client_id": "../etc/passwd"}, "client_id"),
        ({"client_id": "c1", "state": [0.5] * 3}, "state"),
        ({"client_id": "c1", "state": [0.5] * 19 + ["x"]}, "state.19"),
        ({"client_id": "c1", "surprise": 1}, "surprise"),
    ],
)
def test_malformed_requests_are_422s_naming_the_field(client, body, field):
    answer = client.post("/v1/send-time/best", json=body)
    assert answer.status_code == 422
    assert field in _fields(answer)


def test_churn_features_without_their_days_are_refused(client):
    answer = client.post("/v1/churn/risk", json={"client_id": "c1", "features": {}})
    assert answer.status_code == 422


def test_a_body_that_is_not_json_is_a_422_not_a_500(client):
    answer = client.post(
        "/v1/engagement/score", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer no"}])
def test_scoring_without_the_right_key_is_a_401(serving_config, headers):
    from roi_assets.serving.app import create_app

    with TestClient(create_app(serving_config)) as anonymous:
        answer = anonymous.post(
            "/v1/engagement/score", json={"client_id": KNOWN_CLIENTS[0]}, headers=headers
        )
        assert answer.status_code == 401
        assert anonymous.get("/metrics", headers=headers).status_code == 401
        assert anonymous.get("/healthz").status_code == 200


def test_the_key_is_also_accepted_as_a_bearer_token(serving_config):
    from roi_assets.serving.app import create_app

    from .conftest import API_KEY

    with TestClient(create_app(serving_config)) as scraper:
        answer = scraper.get("/metrics", headers={"Authorization": f"Bearer {API_KEY}"})
    assert answer.status_code == 200


def test_an_unexpected_error_is_a_json_500_with_the_request_id(client, monkeypatch):
    service = client.app.state.service

    def broken(request):
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "engagement", broken)
    answer = client.post("/v1/engagement/score", json={"client_id": "c1"})
    assert answer.status_code == 500
    assert answer.json() == {
        "detail": "internal error",
        "request_id": answer.headers["X-Request-ID"],
    }


def test_metrics_count_requests_errors_and_latency_per_endpoint(client):
    client.post("/v1/engagement/score", json={"client_id": KNOWN_CLIENTS[0]})
    client.post("/v1/engagement/score", json={})
    text = client.get("/metrics").text
    endpoint = 'endpoint="/v1/engagement/score"'
    assert f'roi_serving_requests_total{{{endpoint},status_code="200"}} 1.0' in text
    assert f'roi_serving_requests_total{{{endpoint},status_code="422"}} 1.0' in text
    assert f"roi_serving_request_latency_seconds_count{{{endpoint}}} 2.0" in text
    assert "roi_serving_errors_total" in text
    assert 'roi_serving_answers_total{model_name="roi-engagement-open",source="batch"} 1.0' in text


def test_every_request_is_a_json_line_in_the_request_log(serving_config):
    from roi_assets.serving.app import create_app

    from .conftest import API_KEY

    with TestClient(create_app(serving_config), headers={"X-API-Key": API_KEY}) as api:
        api.post("/v1/engagement/score", json={"client_id": KNOWN_CLIENTS[0]})
        api.post("/v1/engagement/score", json={})
    (log,) = serving_config.request_log_dir.glob("requests-*.jsonl")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["status_code"], r["model_version"]) for r in lines] == [(200, "1"), (422, None)]
    assert set(lines[0]) == {
        "ts",
        "endpoint",
        "model_name",
        "model_version",
        "latency_ms",
        "status_code",
    }
    assert lines[0]["endpoint"] == "/v1/engagement/score"
    assert lines[0]["ts"].endswith("+00:00")
