"""One day of a model's deployment, applied to the registry and the warehouse.

Reads the model's current state, the registry's aliases, the day's A/B verdict and the critical
alerts; moves the state machine of `deployment.rollout` one day; records the new state and the
transition; and at full deployment moves `champion` to the challenger (the outgoing champion stays
behind `previous_champion`). A running experiment keeps the versions it started with, so a newer
challenger from a later retrain waits until the current deployment has ended. Running the same
day twice changes nothing the second time. Once deployed, the version is an ordinary champion:
monitoring's health checks roll it back to `previous_champion` if it fails.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
from mlflow import MlflowClient

from roi_assets.deployment.ab_test import (
    SPECIFICATION_AB_TEST,
    ABTestConfig,
    ABTestResult,
    decide_ab_test,
)
from roi_assets.deployment.critical_alerts import critical_alerts
from roi_assets.deployment.outcomes import read_outcomes
from roi_assets.deployment.rollout import (
    AB_TEST,
    FULL,
    RolloutState,
    Transition,
    clock_time,
    next_state,
    roll_back,
    start_experiment,
)
from roi_assets.deployment.split import experiment_salt
from roi_assets.deployment.state_store import (
    append_transitions,
    read_states,
    write_decision,
    write_state,
)
from roi_assets.resources.tracking import (
    CHALLENGER,
    CHAMPION,
    promote_to_champion,
    version_behind_alias,
)

NOTHING_TO_DEPLOY = "nothing to deploy"


@dataclass(frozen=True)
class DeploymentDay:
    """What a day did to one model's deployment."""

    model_name: str
    state: RolloutState | None
    transitions: tuple[Transition, ...]
    note: str


def ab_test_verdict(
    con: duckdb.DuckDBPyConnection,
    state: RolloutState,
    as_of: dt.date,
    ab_config: ABTestConfig = SPECIFICATION_AB_TEST,
) -> ABTestResult:
    """Decide a running A/B test from the outcomes logged before `as_of`, and record the verdict
    in monitoring.ab_test_decisions."""
    if state.stage != AB_TEST:
        raise ValueError(f"{state.model_name} is in stage {state.stage}, not in an A/B test")
    key = experiment_salt(state.model_name, state.challenger_version)
    days_elapsed = (as_of - state.started_at.date()).days
    result = decide_ab_test(read_outcomes(con, key, before=as_of), days_elapsed, ab_config)
    write_decision(con, key, state, as_of, result)
    return result


def _start_if_new_challenger(
    con: duckdb.DuckDBPyConnection,
    model_name: str,
    previous: RolloutState | None,
    as_of: dt.date,
    ab_config: ABTestConfig,
    client: MlflowClient | None,
) -> DeploymentDay:
    champion = version_behind_alias(model_name, CHAMPION, client)
    challenger = version_behind_alias(model_name, CHALLENGER, client)
    if champion is None or challenger is None or challenger == champion:
        note = f"{NOTHING_TO_DEPLOY}: no challenger distinct from the champion"
        return DeploymentDay(model_name, previous, (), note)
    if previous is not None and previous.challenger_version == challenger:
        note = f"{NOTHING_TO_DEPLOY}: challenger v{challenger} already ended {previous.stage}"
        return DeploymentDay(model_name, previous, (), note)
    state, started = start_experiment(
        model_name, challenger, champion, as_of, ab_config.challenger_share
    )
    write_state(con, state)
    append_transitions(con, [started])
    return DeploymentDay(model_name, state, (started,), started.reason)


def advance_deployment(
    con: duckdb.DuckDBPyConnection,
    model_name: str,
    as_of: dt.date,
    decision: ABTestResult | None,
    *,
    ab_config: ABTestConfig = SPECIFICATION_AB_TEST,
    client: MlflowClient | None = None,
) -> DeploymentDay:
    """Advance `model_name`'s deployment to the day `as_of`, given the A/B verdict of that day."""
    state = read_states(con).get(model_name)
    if state is None or not state.active:
        return _start_if_new_challenger(con, model_name, state, as_of, ab_config, client)
    alerts = critical_alerts(
        con, model_name, state.started_at, clock_time(as_of + dt.timedelta(days=1))
    )
    if alerts:
        after, transition = roll_back(state, alerts[0].describe(), as_of)
    else:
        after, transition = next_state(state, as_of, decision, ab_config.duration_days)
        if after.stage == FULL and transition is not None:
            promote_to_champion(model_name, after.challenger_version, client)
    write_state(con, after)
    transitions = () if transition is None else (transition,)
    append_transitions(con, transitions)
    note = transition.reason if transition else f"{after.stage} at {after.challenger_share:.0%}"
    return DeploymentDay(model_name, after, transitions, note)
