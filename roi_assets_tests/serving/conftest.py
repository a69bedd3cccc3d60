"""A private MLflow registry with the served models, a BI copy with marts, and the app on them.

Engagement versions are real pipelines (the logistic baseline on synthetic sends) logged through
the product's `log_sklearn_model`; the send-time model is an untrained DQN logged through
`log_send_time_model`; churn and documents are stand-ins with the product's pyfunc shapes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import mlflow
import polars as pl
import pytest
from fastapi.testclient import TestClient

from roi_assets.churn.features import CHURN_FEATURES, DAILY_METRICS, SEQUENCE_DAYS
from roi_assets.engagement.baseline import train_logistic_baseline
from roi_assets.engagement.model import predict_proba
from roi_assets.engagement.scoring import SCORING_TABLE, scoring_rows
from roi_assets.resources.tracking import (
    configure_tracking,
    log_sklearn_model,
    promote_to_champion,
    registered_version,
    set_alias,
)
from roi_assets.send_time.dqn import DQNAgent
from roi_assets.send_time.pyfunc import log_send_time_model
from roi_assets.serving.app import create_app
from roi_assets.serving.config import ServingConfig
from roi_assets_tests.engagement.synthetic import synthetic_engagement_world

from .stand_ins import ChurnStandIn, DocumentClassifierStandIn

API_KEY = "test-key-0123456789"
ENGAGEMENT = "roi-engagement-open"
KNOWN_CLIENTS = ("c0001", "c0002", "c0003")  # in the marts
MART_P_OPEN = 0.4242  # a value no model computes, so a batch answer is recognisable


class Registry:
    """The private store's URI and the engagement rows the models were trained on."""

    def __init__(self, uri: str, features: pl.DataFrame) -> None:
        self.uri = uri
        self.features = features

    def register_engagement(self, seed: int) -> str:
        rows = self.features.sample(fraction=0.8, seed=seed)
        baseline = train_logistic_baseline(rows, "opened_within_7d")
        with mlflow.start_run():
            info = log_sklearn_model(
                baseline.estimator,
                name="model",
                input_example=rows.head(3).to_pandas(),
                registered_model_name=ENGAGEMENT,
            )
        return registered_version(info)


@pytest.fixture(scope="package")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    folder = tmp_path_factory.mktemp("serving_registry")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    configure_tracking(
        "serving-tests", tracking_uri=uri, artifact_location=(folder / "art").as_uri()
    )
    features = synthetic_engagement_world(n_rows=1500, seed=3).frame.filter(
        pl.col("label_complete")
    )
    registry = Registry(uri, features)
    first = registry.register_engagement(seed=1)
    promote_to_champion(ENGAGEMENT, first)
    with mlflow.start_run():
        mlflow.pyfunc.log_model(
            name="churn", python_model=ChurnStandIn(), registered_model_name="roi-churn-30d"
        )
        mlflow.pyfunc.log_model(
            name="documents",
            python_model=DocumentClassifierStandIn(),
            registered_model_name="roi-document-classifier",
        )
        log_send_time_model(DQNAgent(), registered_model_name="roi-send-time-dqn")
    for name in ("roi-churn-30d", "roi-document-classifier", "roi-send-time-dqn"):
        set_alias(name, "champion", "1")
    yield registry
    mlflow.set_tracking_uri(previous)


def write_bi_copy(
    path: Path,
    features: pl.DataFrame,
    engagement_version: str = "1",
    rollout: list[tuple[str, str, str, float]] | None = None,
) -> None:
    """A BI copy like the pipeline publishes: marts for KNOWN_CLIENTS, the engagement features,
    and optionally monitoring.rollout_state rows (model, challenger, champion, share). Replaced
    atomically, as the pipeline does."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    now = dt.datetime(2024, 6, 1)
    clients = list(KNOWN_CLIENTS)
    n = len(clients)
    engagement = pl.DataFrame(
        {
            "client_id": clients,
            "p_open": [MART_P_OPEN] * n,
            "p_open_model_version": [engagement_version] * n,
            "p_click": [0.03] * n,
            "p_click_model_version": ["1"] * n,
            "model_version": [engagement_version] * n,
            "scored_at": [now] * n,
        }
    )
    churn = pl.DataFrame(
        {
            "client_id": clients,
            "window_days": [30] * n,
            "probability": [0.7] * n,
            "tier": ["high"] * n,
            "top_reasons": [["logins fell 80 %"]] * n,
            "recommended_action": ["call the client"] * n,
            "model_version": ["1"] * n,
        }
    )
    send_time = pl.DataFrame(
        {
            "client_id": clients,
            "best_hour_of_week_local": [34] * n,
            "best_hour_of_week_utc": [39] * n,
            "expected_open_probability": [0.31] * n,
            "model_version": ["1"] * n,
        }
    )
    content = pl.DataFrame(
        {
            "client_id": clients,
            "segment": ["buyer_under_250k"] * n,
            **{
                column: [value] * n
                for column, value in (
                    ("subject_line_variant", "friendly_casual"),
                    ("email_template", "minimal_text"),
                    ("cta_style", "text_link"),
                )
            },
            **{
                f"{family}_posterior_mean": [0.2] * n
                for family in ("subject_line", "email_template", "cta_style")
            },
            "model_version": ["17"] * n,
            "scored_at": [now] * n,
        }
    )
    with duckdb.connect(str(partial)) as con:
        for schema in ("marts", "features", "monitoring"):
            con.execute(f"create schema {schema}")
        for table, frame in (
            ("marts.engagement_scores", engagement),
            ("marts.churn_risk", churn),
            ("marts.send_time_recommendations", send_time),
            ("marts.content_assignments", content),
            (SCORING_TABLE, scoring_stand_in(features)),
        ):
            con.register("frame", frame.to_arrow())
            con.execute(f"create table {table} as select * from frame")
            con.unregister("frame")
        if rollout is not None:
            con.execute(
                "create table monitoring.rollout_state (model_name varchar, "
                "challenger_version varchar, champion_version varchar, stage varchar, "
                "challenger_share double)"
            )
            for model, challenger, champion, share in rollout:
                con.execute(
                    "insert into monitoring.rollout_state values (?, ?, ?, 'ab_test', ?)",
                    [model, challenger, champion, share],
                )
    partial.replace(path)


@pytest.fixture
def bi_copy(tmp_path: Path, registry: Registry) -> Path:
    path = tmp_path / "bi.duckdb"
    write_bi_copy(path, registry.features)
    return path


@pytest.fixture
def serving_config(tmp_path: Path, bi_copy: Path) -> ServingConfig:
    return ServingConfig(
        api_key=API_KEY,
        bi_warehouse=bi_copy,
        request_log_dir=tmp_path / "serving_log",
        max_upload_bytes=50_000,
        refresh_seconds=0,
    )


@pytest.fixture
def client(serving_config: ServingConfig) -> Iterator[TestClient]:
    with TestClient(create_app(serving_config), headers={"X-API-Key": API_KEY}) as test_client:
        yield test_client


@pytest.fixture
def engagement_payload(registry: Registry) -> Callable[[int], dict]:
    """The features of one synthetic send as a request's `features`."""
    from roi_assets.engagement.features import ENGAGEMENT_FEATURES

    def payload(row: int) -> dict:
        values = registry.features.select(ENGAGEMENT_FEATURES).row(row, named=True)
        return {k: float(v) if isinstance(v, bool | int) else v for k, v in values.items()}

    return payload


def churn_payload(first_feature: float) -> dict:
    features = dict.fromkeys(CHURN_FEATURES, 0.0)
    features[CHURN_FEATURES[0]] = first_feature
    daily = [dict.fromkeys(DAILY_METRICS, 1.0) for _ in range(SEQUENCE_DAYS)]
    return {"features": features, "daily": daily}


def scoring_stand_in(features: pl.DataFrame) -> pl.DataFrame:
    """features.feat_email_scoring's shape (one row per client with every feature), made of each
    synthetic client's latest send: this registry runs no dbt."""
    return features.sort("sent_at").group_by("client_id").last().sort("client_id")


def scoring_p_open(registry: Registry, model, client_id: str) -> float:
    rows = scoring_rows(scoring_stand_in(registry.features), pl.Series([client_id]))
    return float(predict_proba(model, rows)[0])
