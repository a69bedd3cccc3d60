"""Every failure a caller can cause is a 4xx that says why; a 5xx is our fault, logged with its
request id. The hostile files here are the same ones the landing zone quarantines
(`documents/test_hostile_landing.py`)."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from roi_assets.serving.app import create_app
from roi_assets.serving.config import ServingConfig
from roi_assets_tests.hostile_inputs import (
    DOCUMENT_PATH,
    HOSTILE_FILES,
    HOSTILE_REQUESTS,
    HostileFile,
    HostileRequest,
    pdf_of_page,
)

from .conftest import API_KEY, write_bi_copy


@pytest.fixture(scope="module")
def client(registry, tmp_path_factory):
    """One app for the module: a refusal changes nothing the next request sees."""
    folder = tmp_path_factory.mktemp("hostile")
    write_bi_copy(folder / "bi.duckdb", registry.features)
    config = ServingConfig(
        api_key=API_KEY,
        bi_warehouse=folder / "bi.duckdb",
        request_log_dir=folder / "serving_log",
        max_upload_bytes=50_000,
        refresh_seconds=0,
    )
    with TestClient(create_app(config), headers={"X-API-Key": API_KEY}) as test_client:
        yield test_client


def _assert_refused(answer, status: int, reason: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["reason"] == reason
    assert body["detail"]
    assert body["request_id"] == answer.headers["X-Request-ID"]


@pytest.mark.parametrize("hostile", HOSTILE_FILES, ids=lambda row: row.case)
def test_a_hostile_upload_is_a_4xx_with_its_reason(client, hostile: HostileFile, caplog):
    with caplog.at_level(logging.ERROR):
        answer = client.post(
            DOCUMENT_PATH, files={"file": (hostile.name, hostile.content(), "application/pdf")}
        )
    _assert_refused(answer, hostile.status, hostile.reason)
    assert not caplog.records, "a refused upload is not a fault of ours"


@pytest.mark.parametrize("hostile", HOSTILE_REQUESTS, ids=lambda row: row.case)
def test_a_hostile_request_is_a_4xx_with_its_reason(client, hostile: HostileRequest, caplog):
    body = hostile.body() if callable(hostile.body) else hostile.body
    with caplog.at_level(logging.ERROR):
        answer = client.post(hostile.path, content=body, headers=hostile.headers)
    _assert_refused(answer, hostile.status, hostile.reason)
    assert not caplog.records


def _refused_uploads(client, status: int) -> float:
    line = f'roi_serving_requests_total{{endpoint="{DOCUMENT_PATH}",status_code="{status}"}} '
    for row in client.get("/metrics").text.splitlines():
        if row.startswith(line):
            return float(row.removeprefix(line))
    return 0.0


def test_refusals_are_counted_as_4xx_in_the_metrics(client):
    before = _refused_uploads(client, 413)
    for hostile in HOSTILE_FILES:
        if hostile.status == 413:
            client.post(DOCUMENT_PATH, files={"file": (hostile.name, hostile.content())})
    expected = sum(hostile.status == 413 for hostile in HOSTILE_FILES)
    assert _refused_uploads(client, 413) == before + expected
    assert _refused_uploads(client, 500) == 0


def test_a_readable_document_still_passes_the_checks(client):
    answer = client.post(DOCUMENT_PATH, files={"file": ("blank.pdf", pdf_of_page(612, 792))})
    assert answer.status_code == 200, answer.text
    assert answer.json()["model_name"] == "roi-document-classifier"


def test_a_fault_of_ours_is_a_500_logged_with_its_request_id(client, monkeypatch, caplog):
    def broken(request):
        raise RuntimeError("the model store vanished")

    monkeypatch.setattr(client.app.state.service, "engagement", broken)
    with caplog.at_level(logging.ERROR):
        answer = client.post("/v1/engagement/score", json={"client_id": "c0001"})
    assert answer.status_code == 500
    request_id = answer.headers["X-Request-ID"]
    assert answer.json()["request_id"] == request_id
    assert any(request_id in record.getMessage() for record in caplog.records)


def test_a_model_without_a_champion_is_a_503_logged_with_its_request_id(
    client, monkeypatch, caplog
):
    monkeypatch.setattr(client.app.state.service.models, "route", lambda name, client_id: None)
    with caplog.at_level(logging.ERROR):
        answer = client.post("/v1/churn/risk", json={"client_id": "c0001"})
    assert answer.status_code == 503
    assert answer.json()["reason"] == "not_served"
    request_id = answer.headers["X-Request-ID"]
    assert any(request_id in record.getMessage() for record in caplog.records)
