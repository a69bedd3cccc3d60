"""The gate's rejections in the deployment history.

A candidate that fails its validation gate never becomes `challenger`, so no live evaluation
starts and, without this record, monitoring.deployment_transitions would not show that a retrain
happened at all. The daily deployment step reads the gate's verdict on the latest `candidate`
(each domain recomputes it from the version's recorded evaluation, `ModelFamily.gate`) and
records a failure once, with the gate's reasons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb
from mlflow import MlflowClient

from roi_assets.deployment.rollout import REJECTED, Transition
from roi_assets.deployment.state_store import TRANSITIONS_TABLE, ensure_tables
from roi_assets.resources.tracking import (
    CANDIDATE,
    CHALLENGER,
    CHAMPION,
    version_behind_alias,
)

# (passed, reasons) of the gate on a version's recorded evaluation; None before it was evaluated.
RecordedGate = Callable[[duckdb.DuckDBPyConnection, str], tuple[bool, str] | None]
GATE_FAILED = "failed its validation gate"


def _already_recorded(con: duckdb.DuckDBPyConnection, model_name: str, version: str) -> bool:
    ensure_tables(con)
    found = con.execute(
        f"select count(*) from {TRANSITIONS_TABLE} where model_name = ? and "
        "challenger_version = ? and event = 'rejected' and from_stage is null",
        [model_name, version],
    ).fetchone()
    return found[0] > 0


def gate_rejection(
    con: duckdb.DuckDBPyConnection,
    client: MlflowClient,
    model_name: str,
    gate: RecordedGate,
    as_of: dt.date,
) -> Transition | None:
    """The transition recording that the latest candidate failed its gate, or None when it
    passed, was admitted, is not judged yet, or its rejection is already recorded."""
    candidate = version_behind_alias(model_name, CANDIDATE, client)
    champion = version_behind_alias(model_name, CHAMPION, client)
    if candidate is None or candidate in (
        champion,
        version_behind_alias(model_name, CHALLENGER, client),
    ):
        return None
    try:
        verdict = gate(con, candidate)
    except duckdb.CatalogException:  # no evaluation table yet: nothing was judged
        return None
    if verdict is None or verdict[0] or _already_recorded(con, model_name, candidate):
        return None
    return Transition(
        model_name=model_name,
        challenger_version=candidate,
        champion_version=champion or "",
        event="rejected",
        from_stage=None,
        to_stage=REJECTED,
        challenger_share=0.0,
        reason=f"candidate v{candidate} {GATE_FAILED}: {verdict[1]}",
        as_of=as_of,
    )
