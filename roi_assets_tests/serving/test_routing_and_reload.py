"""Which version answers: the champion, the experiment's challenger for its clients, and a new
champion after a reload."""

from __future__ import annotations

import mlflow.sklearn
import pytest

from roi_assets.deployment.split import arm_for, experiment_salt
from roi_assets.resources.tracking import promote_to_champion, set_alias

from .conftest import ENGAGEMENT, KNOWN_CLIENTS, MART_P_OPEN, scoring_p_open, write_bi_copy

UNKNOWN_TO_MARTS = [f"c{i:04d}" for i in range(10, 70)]


def test_the_champion_answers_with_its_version(client, registry):
    model = mlflow.sklearn.load_model(f"models:/{ENGAGEMENT}@champion")
    answer = client.post("/v1/engagement/score", json={"client_id": "c0042"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["model_version"], body["arm"], body["source"]) == ("1", "champion", "model")
    assert body["p_open"] == pytest.approx(scoring_p_open(registry, model, "c0042"))
    assert client.get("/healthz").json()["models"][ENGAGEMENT]["champion"] == "1"


@pytest.fixture
def challenger_version(registry):
    version = registry.register_engagement(seed=2)
    set_alias(ENGAGEMENT, "challenger", version)
    return version


def test_an_experiment_routes_the_clients_its_split_picks_to_the_challenger(
    client, registry, bi_copy, challenger_version
):
    share = 0.5
    write_bi_copy(
        bi_copy, registry.features, rollout=[(ENGAGEMENT, challenger_version, "1", share)]
    )
    reloaded = client.post("/admin/reload").json()
    assert reloaded["models"][ENGAGEMENT] == {
        "champion": "1",
        "challenger": challenger_version,
        "challenger_share": share,
    }
    salt = experiment_salt(ENGAGEMENT, challenger_version)
    arms = set()
    for client_id in UNKNOWN_TO_MARTS:
        body = client.post("/v1/engagement/score", json={"client_id": client_id}).json()
        expected = arm_for(client_id, share, salt)
        arms.add(expected)
        assert body["arm"] == expected
        assert body["model_version"] == (challenger_version if expected == "challenger" else "1")
    assert arms == {"champion", "challenger"}


def test_a_challenger_client_never_gets_the_champions_batch_score(
    client, registry, bi_copy, challenger_version
):
    write_bi_copy(bi_copy, registry.features, rollout=[(ENGAGEMENT, challenger_version, "1", 1.0)])
    client.post("/admin/reload")
    body = client.post("/v1/engagement/score", json={"client_id": KNOWN_CLIENTS[0]}).json()
    assert (body["arm"], body["source"]) == ("challenger", "model")
    assert body["p_open"] != MART_P_OPEN


def test_an_experiment_whose_version_is_not_the_registrys_challenger_serves_the_champion(
    client, registry, bi_copy, challenger_version
):
    write_bi_copy(bi_copy, registry.features, rollout=[(ENGAGEMENT, "999", "1", 1.0)])
    client.post("/admin/reload")
    body = client.post("/v1/engagement/score", json={"client_id": "c0042"}).json()
    assert (body["arm"], body["model_version"]) == ("champion", "1")


def test_a_reload_after_a_new_champion_serves_it_and_empties_both_caches(client, registry):
    known = {"client_id": KNOWN_CLIENTS[0]}
    assert client.post("/v1/engagement/score", json=known).json()["source"] == "batch"
    assert client.post("/v1/engagement/score", json={"client_id": "c0042"}).json()["source"] == (
        "model"
    )
    assert client.post("/v1/engagement/score", json={"client_id": "c0042"}).json()["source"] == (
        "cache"
    )
    new_version = registry.register_engagement(seed=3)
    promote_to_champion(ENGAGEMENT, new_version)
    try:
        reloaded = client.post("/admin/reload").json()
        assert reloaded["changed_models"] == [ENGAGEMENT]
        after = client.post("/v1/engagement/score", json={"client_id": "c0042"}).json()
        assert (after["model_version"], after["source"]) == (new_version, "model")
        # The mart was scored by version 1: the new champion computes instead of serving it.
        batch_client = client.post("/v1/engagement/score", json=known).json()
        assert (batch_client["model_version"], batch_client["source"]) == (new_version, "model")
    finally:
        promote_to_champion(ENGAGEMENT, "1")
