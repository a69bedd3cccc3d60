"""The deployment step in Dagster: a compressed clock through the `as_of` config, the schedule
that sets it, the consistency check, and a registry with nothing to deploy."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import mlflow
import pytest
from dagster_duckdb import DuckDBResource

from roi_assets.deployment import assets as deployment_assets
from roi_assets.deployment.assets import rollout_state
from roi_assets.deployment.checks import rollout_state_is_consistent
from roi_assets.deployment.jobs import rollout_daily
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.tracking import (
    CHALLENGER,
    CHAMPION,
    previous_champion,
    set_alias,
    version_behind_alias,
)
from roi_assets.resources.warehouse import connect
from roi_assets_tests.deployment.conftest import CHALLENGER_VERSION, CHAMPION_VERSION, MODEL_NAME
from roi_assets_tests.deployment.test_rollout_lifecycle import A_B, BETTER, day, land_day


@pytest.fixture(autouse=True)
def one_ab_tested_family(monkeypatch):
    monkeypatch.setattr(deployment_assets, "FAMILIES", (A_B,))


def materialize_day(warehouse, as_of: dt.date, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [rollout_state, rollout_state_is_consistent],
        resources={
            "duckdb": DuckDBResource(database=str(warehouse)),
            "registry": ModelRegistry(tracking_uri=mlflow.get_tracking_uri()),
        },
        run_config={"ops": {rollout_state.op.name: {"config": {"as_of": as_of.isoformat()}}}},
        instance=dg.DagsterInstance.ephemeral(),
        **kwargs,
    )


def check_passed(result: dg.ExecuteInProcessResult) -> bool:
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation.passed


def test_the_step_deploys_a_better_challenger_over_four_compressed_weeks(registry, warehouse):
    landed = 0
    for offset in (0, 7, 14, 21, 28):
        with connect(warehouse) as con:
            for n in range(landed, offset):
                land_day(con, n, BETTER)
        landed = offset
        result = materialize_day(warehouse, day(offset))
        assert result.success and check_passed(result)
    metadata = result.asset_materializations_for_node(rollout_state.op.name)[0].metadata
    assert metadata["transitions_today"].value == 1
    assert "deployed" in metadata["today"].value
    assert "data:image/png;base64," in metadata["challenger_share"].value
    assert version_behind_alias(MODEL_NAME, CHAMPION, registry) == CHALLENGER_VERSION
    assert previous_champion(MODEL_NAME, registry) == CHAMPION_VERSION
    with connect(warehouse, read_only=True) as con:
        events = con.execute(
            "select as_of, event, challenger_share from monitoring.deployment_transitions "
            "where model_name = ? order by recorded_at",
            [MODEL_NAME],
        ).fetchall()
    assert [(e[0] - day(0)).days for e in events] == [0, 7, 14, 21, 28]
    assert [e[1] for e in events] == ["started", "promoted", "advanced", "advanced", "deployed"]
    assert [e[2] for e in events] == [0.2, 0.5, 0.8, 1.0, 1.0]


def test_without_a_distinct_challenger_the_step_records_nothing_to_deploy(registry, warehouse):
    set_alias(MODEL_NAME, CHALLENGER, CHAMPION_VERSION, registry)
    result = materialize_day(warehouse, day(0))
    assert result.success and check_passed(result)
    metadata = result.asset_materializations_for_node(rollout_state.op.name)[0].metadata
    assert metadata["transitions_today"].value == 0
    assert "nothing to deploy" in metadata["today"].value


def test_without_a_date_the_step_runs_on_the_day_after_the_latest_landed_send(registry, warehouse):
    with connect(warehouse) as con:
        for n in range(3):
            land_day(con, n, BETTER)
    result = dg.materialize(
        [rollout_state],
        resources={
            "duckdb": DuckDBResource(database=str(warehouse)),
            "registry": ModelRegistry(tracking_uri=mlflow.get_tracking_uri()),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    with connect(warehouse, read_only=True) as con:
        (started,) = con.execute("select as_of from monitoring.deployment_transitions").fetchone()
    assert started == day(3)  # the data's today, not the wall clock's


def test_the_daily_schedule_sets_the_clock_to_its_tick():
    tick = dt.datetime(2025, 6, 9, 6, tzinfo=dt.UTC)
    request = rollout_daily(dg.build_schedule_context(scheduled_execution_time=tick))
    assert request.run_key == "2025-06-09"
    assert request.run_config["ops"] == {rollout_state.op.name: {"config": {"as_of": "2025-06-09"}}}


@pytest.mark.parametrize("share", [0.2, 0.5])
def test_the_consistency_check_fails_a_share_that_does_not_match_the_stage(
    registry, warehouse, share
):
    materialize_day(warehouse, day(0))  # starts the A/B test at 20 %
    with connect(warehouse) as con:
        con.execute("update monitoring.rollout_state set challenger_share = ?", [share])
    result = materialize_day(warehouse, day(0), raise_on_error=False)
    assert check_passed(result) is (share == 0.2)
