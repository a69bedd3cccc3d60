"""The deployment assets in Dagster: a compressed clock through the `as_of` config, the schedule
that sets it, and a graph with nothing to deploy."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl
import pytest
from dagster_duckdb import DuckDBResource

from roi_assets.deployment import assets as deployment_assets
from roi_assets.deployment.checks import rollout_state_is_consistent
from roi_assets.deployment.definitions import CLOCKED_ASSETS, rollout_daily
from roi_assets.deployment.outcomes import draw_targeted_outcomes
from roi_assets.deployment.split import CHALLENGER_ARM, CHAMPION_ARM, experiment_salt
from roi_assets.resources.tracking import (
    CHALLENGER,
    CHAMPION,
    previous_champion,
    set_alias,
    version_behind_alias,
)
from roi_assets.resources.warehouse import connect
from roi_assets_tests.deployment.conftest import CHALLENGER_VERSION, CHAMPION_VERSION, MODEL_NAME
from roi_assets_tests.deployment.test_rollout_lifecycle import (
    ORACLE_SCORES,
    POPULATION,
    RANDOM_SCORES,
)

DAY_0 = dt.date(2025, 6, 2)


def synthetic_outcomes(con, state, days):
    """Stands in for the simulator: the challenger targets by the true probabilities."""
    key = experiment_salt(state.model_name, state.challenger_version)
    versions = {CHAMPION_ARM: state.champion_version, CHALLENGER_ARM: state.challenger_version}
    scores = {CHAMPION_ARM: RANDOM_SCORES, CHALLENGER_ARM: ORACLE_SCORES}
    frames = [
        draw_targeted_outcomes(POPULATION, scores, versions, state.challenger_share, key, day)
        for day in sorted(days)
    ]
    return pl.concat(frames) if frames else pl.DataFrame()


def materialize_day(warehouse, as_of: dt.date, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*CLOCKED_ASSETS, rollout_state_is_consistent],
        resources={"duckdb": DuckDBResource(database=str(warehouse))},
        run_config={
            "ops": {a.op.name: {"config": {"as_of": as_of.isoformat()}} for a in CLOCKED_ASSETS}
        },
        instance=dg.DagsterInstance.ephemeral(),
        **kwargs,
    )


def check_passed(result: dg.ExecuteInProcessResult) -> bool:
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation.passed


def test_the_assets_deploy_a_better_challenger_over_four_compressed_weeks(
    registry, warehouse, monkeypatch
):
    monkeypatch.setattr(deployment_assets, "simulated_engagement_outcomes", synthetic_outcomes)
    for offset in (0, 7, 14, 21, 28):
        result = materialize_day(warehouse, DAY_0 + dt.timedelta(days=offset))
        assert result.success and check_passed(result)
    metadata = result.asset_materializations_for_node("monitoring__rollout_state")[0].metadata
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
        logged_days = con.execute(
            "select count(distinct day) from monitoring.ab_outcomes"
        ).fetchone()[0]
    assert [(e[0] - DAY_0).days for e in events] == [0, 7, 14, 21, 28]
    assert [e[1] for e in events] == ["started", "promoted", "advanced", "advanced", "deployed"]
    assert [e[2] for e in events] == [0.2, 0.5, 0.8, 1.0, 1.0]
    # the day-7 run logged the seven A/B days the clock skipped over
    assert logged_days == 7


def test_without_a_distinct_challenger_the_assets_record_nothing_to_deploy(registry, warehouse):
    set_alias(MODEL_NAME, CHALLENGER, CHAMPION_VERSION, registry)
    result = materialize_day(warehouse, DAY_0)
    assert result.success and check_passed(result)
    metadata = result.asset_materializations_for_node("monitoring__rollout_state")[0].metadata
    assert metadata["transitions_today"].value == 0
    assert "nothing to deploy" in metadata["today"].value


def test_the_daily_schedule_sets_the_clock_to_its_tick():
    tick = dt.datetime(2025, 6, 9, 6, tzinfo=dt.UTC)
    request = rollout_daily(dg.build_schedule_context(scheduled_execution_time=tick))
    assert request.run_key == "2025-06-09"
    assert {op["config"]["as_of"] for op in request.run_config["ops"].values()} == {"2025-06-09"}
    assert set(request.run_config["ops"]) == {a.op.name for a in CLOCKED_ASSETS}


@pytest.mark.parametrize("share", [0.2, 0.5])
def test_the_consistency_check_fails_a_share_that_does_not_match_the_stage(
    registry, warehouse, share
):
    materialize_day(warehouse, DAY_0)  # starts the A/B test at 20 %
    with connect(warehouse) as con:
        con.execute("update monitoring.rollout_state set challenger_share = ?", [share])
    result = materialize_day(warehouse, DAY_0, raise_on_error=False)
    assert check_passed(result) is (share == 0.2)
