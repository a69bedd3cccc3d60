"""A version logged with a compiled scorer is served through it, and answers what its pipeline
answers; a version without one is served through its pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from roi_assets.compiled_scoring import compile_model
from roi_assets.engagement.model import predict_proba, train_engagement_model
from roi_assets.serving.app import create_app
from roi_assets.serving.cache import EdgeCache, ScoreCache
from roi_assets.serving.models import ServedModels
from roi_assets.serving.service import ScoringService

from .conftest import API_KEY

TINY_GRID = {
    "classifier__n_estimators": [20],
    "classifier__max_depth": [3],
    "classifier__learning_rate": [0.1],
}


@pytest.fixture(scope="module")
def boosted(registry, tmp_path_factory):
    """A small XGBoost pipeline and its compiled form, standing in for the champion's."""
    trained = train_engagement_model(registry.features, param_grid=TINY_GRID, n_splits=2)
    return trained, compile_model(trained.estimator, tmp_path_factory.mktemp("compiled"))


def _client(serving_config, compiled_loader) -> TestClient:
    service = ScoringService(
        ServedModels(compiled_loader=compiled_loader),
        EdgeCache(serving_config.bi_warehouse),
        ScoreCache(100, 60),
    )
    return TestClient(create_app(serving_config, service), headers={"X-API-Key": API_KEY})


def test_a_compiled_version_answers_with_its_compiled_scorer(
    serving_config, engagement_payload, boosted
):
    trained, compiled = boosted
    loaded_uris = []

    def loader(uri: str):
        loaded_uris.append(uri)
        return compiled if uri.startswith("models:/roi-engagement-open/") else None

    with _client(serving_config, loader) as client:
        answers = [
            client.post(
                "/v1/engagement/score", json={"client_id": "x", "features": engagement_payload(row)}
            ).json()
            for row in range(5)
        ]
    assert {"models:/roi-engagement-open/1", "models:/roi-send-time-dqn/1"} <= set(loaded_uris)
    assert "models:/roi-document-classifier/1" not in loaded_uris
    frame = pl_rows(engagement_payload, 5)
    expected = predict_proba(trained, frame)
    np.testing.assert_allclose([a["p_open"] for a in answers], expected, atol=1e-6)
    assert {a["source"] for a in answers} == {"model"}


def test_a_version_without_a_compiled_scorer_answers_through_its_pipeline(
    serving_config, engagement_payload, boosted
):
    with _client(serving_config, lambda uri: None) as client:
        answer = client.post(
            "/v1/engagement/score", json={"client_id": "x", "features": engagement_payload(0)}
        ).json()
    # The champion of the registry is the logistic baseline, not the boosted stand-in.
    assert answer["p_open"] != pytest.approx(boosted[1].predict_row(engagement_payload(0)))
    assert 0.0 < answer["p_open"] < 1.0


def pl_rows(payload, n: int):
    import polars as pl

    return pl.DataFrame([payload(row) for row in range(n)])
