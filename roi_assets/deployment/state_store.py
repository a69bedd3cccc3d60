"""Where deployments are recorded: monitoring.rollout_state, deployment_transitions and
ab_test_decisions (contracts in docs/tables.md).

`rollout_state` holds one current row per model, which the serving API reads (from the BI copy)
to route clients; `deployment_transitions` is the append-only history with reasons; and
`ab_test_decisions` the daily verdict of each A/B test with its evidence. Writes are keyed so a
re-run of the same day replaces or ignores rather than duplicates.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

import duckdb

from roi_assets.deployment.ab_test import ABTestResult
from roi_assets.deployment.rollout import RolloutState, Transition
from roi_assets.resources.table_contracts import create_statement
from roi_assets.resources.warehouse import table_exists

SCHEMA = "monitoring"
STATE_TABLE = f"{SCHEMA}.rollout_state"
TRANSITIONS_TABLE = f"{SCHEMA}.deployment_transitions"
DECISIONS_TABLE = f"{SCHEMA}.ab_test_decisions"

_STATE_COLUMNS = (
    "model_name",
    "challenger_version",
    "champion_version",
    "stage",
    "challenger_share",
    "started_at",
    "stage_started_at",
    "updated_at",
)
_CREATE = tuple(
    create_statement(table) for table in (STATE_TABLE, TRANSITIONS_TABLE, DECISIONS_TABLE)
)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {SCHEMA}")
    for statement in _CREATE:
        con.execute(statement)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def read_states(con: duckdb.DuckDBPyConnection) -> dict[str, RolloutState]:
    """The current deployment of every model that ever had one."""
    if not table_exists(con, SCHEMA, "rollout_state"):
        return {}
    rows = con.execute(f"select {', '.join(_STATE_COLUMNS)} from {STATE_TABLE}").fetchall()
    return {row[0]: RolloutState(*row) for row in rows}


def write_state(con: duckdb.DuckDBPyConnection, state: RolloutState) -> None:
    ensure_tables(con)
    con.execute(
        f"insert or replace into {STATE_TABLE} ({', '.join(_STATE_COLUMNS)}) "
        f"values ({', '.join('?' * len(_STATE_COLUMNS))})",
        [getattr(state, column) for column in _STATE_COLUMNS],
    )


def append_transitions(con: duckdb.DuckDBPyConnection, transitions: Iterable[Transition]) -> int:
    """Record transitions; one already recorded for the same model, challenger, day and event is
    kept as it was. Returns how many were new."""
    ensure_tables(con)
    added = 0
    for t in transitions:
        before = con.execute(f"select count(*) from {TRANSITIONS_TABLE}").fetchone()[0]
        con.execute(
            f"insert or ignore into {TRANSITIONS_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                t.model_name,
                t.challenger_version,
                t.champion_version,
                t.event,
                t.from_stage,
                t.to_stage,
                t.challenger_share,
                t.reason,
                t.as_of,
                _now(),
            ],
        )
        added += con.execute(f"select count(*) from {TRANSITIONS_TABLE}").fetchone()[0] - before
    return added


def started_recorded_at(con: duckdb.DuckDBPyConnection, state: RolloutState) -> dt.datetime | None:
    """When (UTC, by the wall clock monitoring's alerts use) the deployment of this challenger
    was started; None when not recorded."""
    if not table_exists(con, SCHEMA, "deployment_transitions"):
        return None
    row = con.execute(
        f"select min(recorded_at) from {TRANSITIONS_TABLE} "
        "where model_name = ? and challenger_version = ? and event = 'started'",
        [state.model_name, state.challenger_version],
    ).fetchone()
    return row[0] if row else None


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def write_decision(
    con: duckdb.DuckDBPyConnection,
    experiment_key: str,
    state: RolloutState,
    as_of: dt.date,
    result: ABTestResult,
) -> None:
    """Store the day's verdict of a live evaluation, A/B or shadow (replacing an earlier one of
    the same day)."""
    ensure_tables(con)
    con.execute(
        f"insert or replace into {DECISIONS_TABLE} values "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            experiment_key,
            state.model_name,
            state.challenger_version,
            state.champion_version,
            as_of,
            result.decision,
            result.days_elapsed,
            result.n_champion,
            result.n_challenger,
            result.engaged_champion,
            result.engaged_challenger,
            result.rate_champion,
            result.rate_challenger,
            _finite(result.relative_lift),
            result.p_value,
            result.reason,
            _now(),
            result.metric,
        ],
    )
