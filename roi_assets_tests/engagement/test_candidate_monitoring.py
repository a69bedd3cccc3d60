"""A model whose gate has not let any version through is still explained and assessed: monitoring
reads its `candidate` until it has a `champion`, and says which of the two it read."""

from __future__ import annotations

from pathlib import Path

import mlflow
import polars as pl
import pytest
from dagster_duckdb import DuckDBResource

from roi_assets.engagement.features import engagement_features
from roi_assets.engagement.scoring import SCORING_TABLE
from roi_assets.monitoring.explain.assets import ExplanationConfig, engagement_explanations
from roi_assets.monitoring.fairness.assets import FairnessConfig, engagement_fairness
from roi_assets.resources.tracking import (
    CANDIDATE,
    CHAMPION,
    champion_or_candidate,
    log_sklearn_model,
    promote_to_champion,
    registered_version,
    set_alias,
)
from roi_assets.resources.warehouse import connect
from roi_assets_tests.current_registry import current_registry

HELD_BACK = "roi-engagement-click"  # registered, gate failed: a candidate and no champion


@pytest.fixture(scope="module")
def candidate(store, trained, world) -> str:
    with mlflow.start_run():
        info = log_sklearn_model(
            trained.estimator,
            name="model",
            input_example=engagement_features(world.frame.head(5)),
            registered_model_name=HELD_BACK,
        )
    version = registered_version(info)
    set_alias(HELD_BACK, CANDIDATE, version)
    return version


@pytest.fixture
def warehouse(tmp_path) -> DuckDBResource:
    return DuckDBResource(database=str(tmp_path / "warehouse.duckdb"))


def test_monitoring_reads_the_champion_and_falls_back_to_the_candidate(candidate):
    name = "roi-engagement-alias-order-test"
    first = mlflow.register_model(f"models:/{HELD_BACK}/{candidate}", name).version
    second = mlflow.register_model(f"models:/{HELD_BACK}/{candidate}", name).version

    assert champion_or_candidate(name) is None
    set_alias(name, CANDIDATE, second)
    assert champion_or_candidate(name) == (CANDIDATE, str(second))
    promote_to_champion(name, first)
    assert champion_or_candidate(name) == (CHAMPION, str(first))


def test_a_held_back_candidate_gets_a_fairness_report_named_as_the_candidate(
    candidate, world, warehouse
):
    result = engagement_fairness(
        FairnessConfig(), features=world.frame, duckdb=warehouse, registry=current_registry()
    )

    assert result.metadata[f"{HELD_BACK}_version"] == f"{candidate} (candidate)"
    assert result.metadata["roi-engagement-open_skipped"].startswith("nothing registered")
    with connect(Path(warehouse.database), read_only=True) as con:
        reported = con.execute(
            "select distinct model_name, model_version, variant from monitoring.fairness_metrics"
        ).fetchall()
    assert {(HELD_BACK, candidate, "model"), (HELD_BACK, candidate, "mitigated")} <= set(reported)


def test_a_held_back_candidate_is_explained_globally_and_per_client(candidate, world, warehouse):
    scores = world.frame.select("client_id").unique().head(30)
    # what dbt's features.feat_email_scoring holds: one row per client, an email sent now
    scoring = world.frame.unique("client_id", keep="last")
    with connect(Path(warehouse.database)) as con:
        con.execute("create schema features")
        con.register("scoring", scoring.to_arrow())
        con.execute(f"create table {SCORING_TABLE} as select * from scoring")
    config = ExplanationConfig(background_rows=100, lime_clients=3, lime_samples=200)

    result = engagement_explanations(
        config, scores=scores, features=world.frame, duckdb=warehouse, registry=current_registry()
    )

    assert result.metadata[f"{HELD_BACK}_version"] == f"{candidate} (candidate)"
    with connect(Path(warehouse.database), read_only=True) as con:
        importance = pl.from_arrow(
            con.execute(
                "select model_version from monitoring.feature_importance where model_name = ?",
                [HELD_BACK],
            ).fetch_arrow_table()
        )
        explained = con.execute(
            "select count(distinct client_id) from monitoring.client_explanations "
            "where model_name = ? and method = 'shap'",
            [HELD_BACK],
        ).fetchone()[0]
    assert importance.height > 0 and set(importance["model_version"]) == {candidate}
    # a candidate serves no one: its per-client contributions cover the LIME sample only
    assert explained == config.lime_clients
