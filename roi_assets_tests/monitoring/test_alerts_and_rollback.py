import datetime as dt
import json

import dagster as dg
import duckdb
import mlflow
import polars as pl
import pytest
from dagster_duckdb import DuckDBResource
from mlflow import MlflowClient

from roi_assets.deployment.rollback import ROLLED_BACK, was_rolled_back
from roi_assets.deployment.rollout import start_experiment
from roi_assets.deployment.state_store import ensure_tables, write_state
from roi_assets.evaluation.model_evaluations import write_model_evaluations
from roi_assets.monitoring.health.alerts import critical_alerts_since
from roi_assets.monitoring.health.assets import model_alerts, serving_health
from roi_assets.monitoring.health.checks import (
    serving_error_rate_within_threshold,
    serving_latency_within_threshold,
)
from roi_assets.resources.tracking import (
    CHAMPION,
    PREVIOUS_CHAMPION,
    promote_to_champion,
    version_behind_alias,
)
from roi_assets_tests.current_registry import current_registry

MODEL = "roi-engagement-open"


def _resources(warehouse) -> dict:
    return {"duckdb": warehouse, "registry": current_registry()}


FIRST_WINDOW = "2025-01-01T00:00:00/2025-03-31T00:00:00"
LATEST_WINDOW = "2025-04-01T00:00:00/2025-04-28T00:00:00"


@pytest.fixture
def registry(tmp_path):
    """A private MLflow store with two versions of the open model: v2 champion, v1 before it."""
    outer = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    client = MlflowClient()
    client.create_registered_model(MODEL)
    for _ in range(2):
        client.create_model_version(MODEL, source=str(tmp_path / "model"))
    promote_to_champion(MODEL, "1")
    promote_to_champion(MODEL, "2")
    yield client
    mlflow.set_tracking_uri(outer)


@pytest.fixture
def warehouse(tmp_path):
    return DuckDBResource(database=str(tmp_path / "warehouse.duckdb"))


def _auc_rows(version: str, values: dict[str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "model_name": MODEL,
            "model_version": version,
            "metric": "auc_roc",
            "value": list(values.values()),
            "oracle_value": None,
            "baseline_value": None,
            "evaluated_at": [dt.datetime(2025, 4, 1), dt.datetime(2025, 5, 1)][: len(values)],
            "evaluation_window": list(values),
        },
        schema_overrides={"oracle_value": pl.Float64, "baseline_value": pl.Float64},
    )


def _alerts(warehouse: DuckDBResource) -> pl.DataFrame:
    with duckdb.connect(warehouse.database, read_only=True) as con:
        return con.execute("select * from monitoring.alerts").pl()


def test_an_accuracy_drop_rolls_the_champion_back_once_and_records_it(registry, warehouse):
    with warehouse.get_connection() as con:
        write_model_evaluations(con, _auc_rows("2", {FIRST_WINDOW: 0.80, LATEST_WINDOW: 0.72}))

    assert dg.materialize([model_alerts], resources=_resources(warehouse)).success

    alert = _alerts(warehouse).row(0, named=True)
    assert (alert["alert_type"], alert["severity"]) == ("accuracy_drop", "critical")
    assert alert["observed"] == pytest.approx(0.08) and alert["threshold"] == 0.05
    assert (alert["rolled_back_from"], alert["rolled_back_to"]) == ("2", "1")
    assert version_behind_alias(MODEL, CHAMPION) == "1"
    assert version_behind_alias(MODEL, PREVIOUS_CHAMPION) is None
    assert version_behind_alias(MODEL, ROLLED_BACK) == "2" and was_rolled_back(
        MODEL, "2", MlflowClient()
    )

    # the same breach seen again: no second row, no second rollback
    assert dg.materialize([model_alerts], resources=_resources(warehouse)).success
    assert _alerts(warehouse).height == 1
    assert version_behind_alias(MODEL, CHAMPION) == "1"
    with warehouse.get_connection() as con:
        since = critical_alerts_since(con, MODEL, dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        assert since["alert_id"].to_list() == [alert["alert_id"]]
        assert critical_alerts_since(con, "roi-churn-30d", dt.datetime(2000, 1, 1)).height == 0


def test_a_deployed_challenger_s_accuracy_drop_is_its_own_and_leaves_the_champion(
    registry, warehouse
):
    """v3 is being deployed beside champion v2: its drop is raised on v3, which stops the
    deployment (deployment.lifecycle), and the champion stays where it is."""
    registry.create_model_version(MODEL, source="model")
    with warehouse.get_connection() as con:
        state, _ = start_experiment(MODEL, "3", "2", dt.date(2025, 4, 1))
        ensure_tables(con)
        write_state(con, state)
        write_model_evaluations(con, _auc_rows("3", {FIRST_WINDOW: 0.80, LATEST_WINDOW: 0.70}))

    assert dg.materialize([model_alerts], resources=_resources(warehouse)).success

    alert = _alerts(warehouse).row(0, named=True)
    assert (alert["model_version"], alert["alert_type"]) == ("3", "accuracy_drop")
    assert alert["rolled_back_to"] is None
    assert version_behind_alias(MODEL, CHAMPION) == "2"


def test_a_drop_within_the_threshold_raises_nothing(registry, warehouse):
    with warehouse.get_connection() as con:
        write_model_evaluations(con, _auc_rows("2", {FIRST_WINDOW: 0.80, LATEST_WINDOW: 0.76}))
    assert dg.materialize([model_alerts], resources=_resources(warehouse)).success
    with warehouse.get_connection() as con:
        assert critical_alerts_since(con, MODEL, dt.datetime(2000, 1, 1)).height == 0
    assert version_behind_alias(MODEL, CHAMPION) == "2"


def test_without_a_previous_champion_the_alert_says_so_and_nothing_moves(registry, warehouse):
    registry.delete_registered_model_alias(MODEL, PREVIOUS_CHAMPION)
    with warehouse.get_connection() as con:
        write_model_evaluations(con, _auc_rows("2", {FIRST_WINDOW: 0.80, LATEST_WINDOW: 0.60}))
    assert dg.materialize([model_alerts], resources=_resources(warehouse)).success
    alert = _alerts(warehouse).row(0, named=True)
    assert "no previous champion" in alert["message"]
    assert alert["rolled_back_to"] is None
    assert version_behind_alias(MODEL, CHAMPION) == "2"


def test_the_alerts_table_reads_empty_before_anything_was_written(tmp_path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        assert critical_alerts_since(con, MODEL, dt.datetime(2025, 1, 1)).height == 0


def _request_log(folder, day: dt.date, latency_ms: float, errors: int, requests: int = 200):
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"requests-{day:%d}.jsonl").open("w") as log:
        for i in range(requests):
            ts = dt.datetime.combine(day, dt.time(12), dt.UTC) + dt.timedelta(seconds=i)
            line = {
                "ts": ts.isoformat(timespec="milliseconds"),
                "endpoint": "/predict/engagement",
                "model_name": MODEL,
                "model_version": "2",
                "latency_ms": latency_ms,
                "status_code": 500 if i < errors else 200,
            }
            log.write(json.dumps(line) + "\n")
        log.write('{"ts": "2025-05-0')  # a line cut short by a killed process


def test_slow_and_failing_requests_raise_latency_and_error_rate_alerts(
    registry, warehouse, tmp_path, monkeypatch
):
    monkeypatch.setenv("ROI_DATA_DIR", str(tmp_path))
    log = tmp_path / "serving_log"
    _request_log(log, dt.date(2025, 5, 1), latency_ms=40, errors=0)
    _request_log(log, dt.date(2025, 5, 2), latency_ms=45, errors=1)
    _request_log(log, dt.date(2025, 5, 3), latency_ms=190, errors=6)  # +~145 ms, 3 % errors

    result = dg.materialize(
        [
            serving_health,
            model_alerts,
            serving_latency_within_threshold,
            serving_error_rate_within_threshold,
        ],
        resources=_resources(warehouse),
    )

    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "serving_latency_within_threshold": False,
        "serving_error_rate_within_threshold": False,
    }
    alerts = _alerts(warehouse).sort("alert_type")
    assert alerts["alert_type"].to_list() == ["error_rate", "latency_increase"]
    assert alerts["observed"].to_list() == pytest.approx([0.03, 190 - 42.5])
    error = alerts.row(0, named=True)
    # a critical error rate rolls back like an accuracy drop
    assert (error["rolled_back_from"], error["rolled_back_to"]) == ("2", "1")
    with warehouse.get_connection() as con:
        health = con.execute("select * from monitoring.serving_health order by day").pl()
    assert health["requests"].to_list() == [200, 200, 200]
    assert health["latency_p99_ms"].to_list() == pytest.approx([40, 45, 190])


def test_without_traffic_nothing_is_recorded_and_the_checks_pass(warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("ROI_DATA_DIR", str(tmp_path))
    result = dg.materialize(
        [serving_health, serving_latency_within_threshold, serving_error_rate_within_threshold],
        resources=_resources(warehouse),
    )
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 2
    assert all(e.passed and e.description == "no traffic" for e in evaluations)
