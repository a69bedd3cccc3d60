"""The rollout state's consistency, a blocking check: what the serving API routes by must make
sense before anything downstream (the BI copy it reads) is published."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets.deployment.assets import ROLLOUT_STATE
from roi_assets.deployment.rollout import ACTIVE_STAGES, FULL, expected_share
from roi_assets.deployment.state_store import TRANSITIONS_TABLE, ensure_tables, read_states


@dg.asset_check(asset=ROLLOUT_STATE, blocking=True)
def rollout_state_is_consistent(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """Every model's challenger share matches its stage (A/B 20 %, rollout 50/80/100 %, full
    100 %, rolled back or rejected 0 %), a running experiment compares two distinct versions, a
    full deployment serves its own champion, and the latest recorded transition led to the
    stage the state shows."""
    problems = []
    with duckdb.get_connection() as con:
        ensure_tables(con)
        states = read_states(con)
        for name, state in states.items():
            if state.challenger_share not in expected_share(state):
                problems.append(f"{name}: share {state.challenger_share} in stage {state.stage}")
            if state.stage in ACTIVE_STAGES and state.challenger_version == state.champion_version:
                problems.append(f"{name}: experiment of v{state.champion_version} against itself")
            if state.stage == FULL and state.challenger_version != state.champion_version:
                problems.append(f"{name}: full deployment but champion is not the challenger")
            last = con.execute(
                f"select to_stage from {TRANSITIONS_TABLE} where model_name = ? "
                "and challenger_version = ? order by recorded_at desc limit 1",
                [name, state.challenger_version],
            ).fetchone()
            if last is None or last[0] != state.stage:
                problems.append(f"{name}: stage {state.stage} without a transition leading to it")
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={
            "models": len(states),
            "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems) or "none"),
        },
    )
