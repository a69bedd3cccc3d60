"""The one lifecycle every registered model goes through, whatever its domain:

    train → evaluate on a later window (model, oracle, baselines) → gate → `challenger`
          → live evaluation (A/B test on landed outcomes, or shadow on matured labels)
          → rollout 20 → 50 → 80 → 100 % (days 7/14/21/28) → `champion`
    with `previous_champion` kept, and a rollback possible at every stage.

A model that learns online (the content bandit: its posteriors absorb each day's landed clicks)
tags its versions with a `CONFIGURATION_TAG`. A candidate with its champion's configuration is
the champion's own policy after more feedback: past its gate it becomes champion at once
(`updated_online`, the outgoing snapshot kept as `previous_champion`), and only a candidate that
changes the policy (its prior, segments, variants or rewards), or follows a rolled-back snapshot
of it, goes through the live evaluation.

Domains supply only what differs, as a `ModelFamily`: which live evaluation applies and, for a
shadow test, how to score both versions on the rows whose labels matured. Everything else —
aliases, the state machine (`deployment.rollout`), verdicts (`deployment.ab_test`,
`deployment.shadow`), records (`deployment.state_store`) and the routing the marts serve by — is
here, the same for every model.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import duckdb
import polars as pl
from mlflow import MlflowClient

from roi_assets.deployment.ab_test import SPECIFICATION_AB_TEST, ABTestConfig, ABTestResult
from roi_assets.deployment.ab_test import decide_ab_test as _decide_ab_test
from roi_assets.deployment.critical_alerts import CriticalAlert, critical_alerts
from roi_assets.deployment.gate_record import RecordedGate, gate_rejection
from roi_assets.deployment.outcomes import landed_outcomes, read_outcomes, write_outcomes
from roi_assets.deployment.rollback import ROLLED_BACK
from roi_assets.deployment.rollout import (
    AB_TEST,
    FULL,
    ROLLOUT,
    SHADOW,
    RolloutState,
    Transition,
    next_state,
    roll_back,
    start_experiment,
)
from roi_assets.deployment.shadow import ShadowConfig, decide_shadow
from roi_assets.deployment.split import CHALLENGER_ARM, arm_for, experiment_salt
from roi_assets.deployment.state_store import (
    TRANSITIONS_TABLE,
    append_transitions,
    ensure_tables,
    read_states,
    started_recorded_at,
    write_decision,
    write_state,
)
from roi_assets.resources.tracking import (
    CHALLENGER,
    CHAMPION,
    PREVIOUS_CHAMPION,
    promote_to_challenger,
    promote_to_champion,
    version_behind_alias,
)

LiveEvaluation = Literal["ab_test", "shadow"]
NOTHING_TO_DEPLOY = "nothing to deploy"
# A version tag naming what makes a model the policy it is, apart from the feedback it learned
# from (the content bandit's prior, segments, variants and rewards). Models that learn online tag
# their versions with it; see `continues_champion`.
CONFIGURATION_TAG = "configuration"


@dataclass(frozen=True)
class ShadowRequest:
    """What a shadow scorer is given: the warehouse, the registry, the two versions and the
    rows to judge (those whose label matured since `since`, before `as_of`)."""

    con: duckdb.DuckDBPyConnection
    client: MlflowClient
    model_name: str
    champion_version: str
    challenger_version: str
    since: dt.date
    as_of: dt.date


# Returns the paired per-row losses: columns `loss_champion`, `loss_challenger`.
ShadowScorer = Callable[[ShadowRequest], pl.DataFrame]


@dataclass(frozen=True)
class ModelFamily:
    """What differs between models in the lifecycle.

    `ab_test`: the model decides something the world acts on; its challenger serves a 20 % arm
    and is judged on the `engagement` (`opened_at` / `clicked_at`) that lands for each arm.
    `shadow`: both versions score, the champion serves, and `shadow_losses` compares them on
    matured labels (`metric` names the loss). `gate` gives the validation gate's verdict on a
    version from its recorded evaluation, so a candidate it rejects is in the history too."""

    model_name: str
    live_evaluation: LiveEvaluation
    engagement: str = "opened_at"
    shadow_losses: ShadowScorer | None = None
    metric: str = "engagement_rate"
    shadow: ShadowConfig = field(default_factory=ShadowConfig)
    gate: RecordedGate | None = None

    def __post_init__(self) -> None:
        if self.live_evaluation == "shadow" and self.shadow_losses is None:
            raise ValueError(f"{self.model_name}: a shadow evaluation needs shadow_losses")

    @property
    def first_stage(self) -> str:
        return AB_TEST if self.live_evaluation == "ab_test" else SHADOW


@dataclass(frozen=True)
class DeploymentDay:
    """What a day did to one model's deployment."""

    model_name: str
    state: RolloutState | None
    transitions: tuple[Transition, ...]
    note: str


def admit_candidate(
    client: MlflowClient, model_name: str, version: str, passed: bool
) -> tuple[str, ...]:
    """The gate's consequence, the same for every model: a passing candidate becomes
    `challenger` (and `champion` when the model has none yet), or `champion` at once when it
    continues the champion's own learning (`continues_champion`); a failing one keeps only its
    `candidate` alias. Returns the aliases set."""
    if not passed:
        return ()
    if continues_champion(client, model_name, str(version)):
        outgoing = promote_to_champion(model_name, str(version), client)
        if version_behind_alias(model_name, CHALLENGER, client) == outgoing:
            # the outgoing champion was also the latest challenger: nothing is left to test
            client.delete_registered_model_alias(model_name, CHALLENGER)
        return (CHAMPION,)
    return promote_to_challenger(model_name, str(version), client)


def continues_champion(client: MlflowClient, model_name: str, version: str) -> bool:
    """Whether `version` is the champion's own policy after more feedback: newer than the
    champion and tagged with the same `CONFIGURATION_TAG`. Such a version is not tested against
    the champion: an A/B test of a policy against itself a day younger has nothing to find (at
    2,000 clients its 20 % arm holds about 100 clients a week), and holding it back would stop
    the policy learning from what lands.

    Not after a rollback pulled a later snapshot of the champion's policy: the snapshots after it
    learned from the period that raised the alert, so they prove themselves in the live
    evaluation before serving, and online updates resume once one of them is champion."""
    champion = version_behind_alias(model_name, CHAMPION, client)
    pulled = version_behind_alias(model_name, ROLLED_BACK, client)
    return _same_policy_later(client, model_name, version, champion) and not (
        pulled is not None and _same_policy_later(client, model_name, pulled, champion)
    )


def _same_policy_later(
    client: MlflowClient, model_name: str, newer: str, older: str | None
) -> bool:
    """Whether `newer` is a later version of `older` with the same `CONFIGURATION_TAG`."""
    if older is None or int(newer) <= int(older):
        return False
    configuration = _configuration(client, model_name, newer)
    return configuration is not None and configuration == _configuration(client, model_name, older)


def _configuration(client: MlflowClient, model_name: str, version: str) -> str | None:
    return client.get_model_version(model_name, version).tags.get(CONFIGURATION_TAG)


def judge(
    con: duckdb.DuckDBPyConnection,
    client: MlflowClient,
    family: ModelFamily,
    state: RolloutState,
    as_of: dt.date,
    ab_config: ABTestConfig = SPECIFICATION_AB_TEST,
) -> ABTestResult:
    """The live evaluation's verdict of the day, from what landed (A/B) or matured (shadow),
    recorded in monitoring.ab_test_decisions."""
    key = experiment_salt(state.model_name, state.challenger_version)
    start = state.started_at.date()
    days_elapsed = (as_of - start).days
    if family.live_evaluation == "ab_test":
        # The marts publish the arms' decisions from the morning after the test started.
        outcomes = landed_outcomes(
            con,
            key,
            state.challenger_version,
            ab_config.challenger_share,
            start + dt.timedelta(days=1),
            as_of,
            family.engagement,
        )
        write_outcomes(con, outcomes)
        result = _decide_ab_test(read_outcomes(con, key, before=as_of), days_elapsed, ab_config)
    else:
        request = ShadowRequest(
            con,
            client,
            state.model_name,
            state.champion_version,
            state.challenger_version,
            start,
            as_of,
        )
        losses = family.shadow_losses(request)
        result = decide_shadow(losses, days_elapsed, family.metric, family.shadow)
    write_decision(con, key, state, as_of, result)
    return result


def _start_if_new_challenger(
    con: duckdb.DuckDBPyConnection,
    client: MlflowClient,
    family: ModelFamily,
    previous: RolloutState | None,
    as_of: dt.date,
) -> DeploymentDay:
    name = family.model_name
    champion = version_behind_alias(name, CHAMPION, client)
    challenger = version_behind_alias(name, CHALLENGER, client)
    if champion is None or challenger is None or int(challenger) <= int(champion):
        note = f"{NOTHING_TO_DEPLOY}: no challenger newer than the champion"
        return DeploymentDay(name, previous, (), note)
    if previous is not None and previous.challenger_version == challenger:
        note = f"{NOTHING_TO_DEPLOY}: challenger v{challenger} already ended {previous.stage}"
        return DeploymentDay(name, previous, (), note)
    state, started = start_experiment(
        name,
        challenger,
        champion,
        as_of,
        SPECIFICATION_AB_TEST.challenger_share,
        family.first_stage,
    )
    write_state(con, state)
    append_transitions(con, [started])
    return DeploymentDay(name, state, (started,), f"{started.reason}: {state.stage} starts")


def stopping_alerts(alerts: list[CriticalAlert], state: RolloutState) -> list[CriticalAlert]:
    """The alerts that stop a deployment: those on its challenger's version, or on no version
    (the serving API as a whole). An alert on the champion is the champion's: monitoring rolls it
    back to `previous_champion` when it has one, and the challenger's evaluation goes on, since
    a challenger retrained on newer data is what a drifting champion needs."""
    return [a for a in alerts if a.model_version in (None, state.challenger_version)]


def deployed_challenger(con: duckdb.DuckDBPyConnection, model_name: str) -> str | None:
    """The challenger of the model's running deployment (live evaluation or rollout), which
    monitoring watches beside the champion; None when nothing is being deployed."""
    state = read_states(con).get(model_name)
    return state.challenger_version if state is not None and state.active else None


def advance(
    con: duckdb.DuckDBPyConnection,
    client: MlflowClient,
    family: ModelFamily,
    as_of: dt.date,
) -> DeploymentDay:
    """Move one model's deployment to the day `as_of`: record a candidate its gate rejected,
    start a live evaluation for a new challenger, judge a running one, step the rollout, make the
    challenger champion at the end, or roll back on a critical alert on the challenger raised
    since the deployment started. Running the same day twice changes nothing the second time."""
    recorded = [online_update(con, client, family.model_name, as_of)]
    if family.gate is not None:
        recorded.append(gate_rejection(con, client, family.model_name, family.gate, as_of))
    recorded = [transition for transition in recorded if transition is not None]
    day = _advance_deployment(con, client, family, as_of)
    if not recorded:
        return day
    append_transitions(con, recorded)
    return replace(day, transitions=(*recorded, *day.transitions))


def online_update(
    con: duckdb.DuckDBPyConnection, client: MlflowClient, model_name: str, as_of: dt.date
) -> Transition | None:
    """The transition recording that the champion took over from `previous_champion` as its
    online update (`admit_candidate`), or None when it did not or this is already recorded."""
    champion = version_behind_alias(model_name, CHAMPION, client)
    previous = version_behind_alias(model_name, PREVIOUS_CHAMPION, client)
    if champion is None or not _same_policy_later(client, model_name, champion, previous):
        return None
    ensure_tables(con)
    recorded = con.execute(
        f"select count(*) from {TRANSITIONS_TABLE} where model_name = ? "
        "and challenger_version = ? and event in ('updated_online', 'deployed')",
        [model_name, champion],
    ).fetchone()[0]
    if recorded:
        return None
    return Transition(
        model_name=model_name,
        challenger_version=champion,
        champion_version=previous,
        event="updated_online",
        from_stage=None,
        to_stage=FULL,
        challenger_share=1.0,
        reason=(
            f"v{champion} is champion v{previous}'s policy after more feedback: champion at once,"
            f" v{previous} kept as previous champion"
        ),
        as_of=as_of,
    )


def _advance_deployment(
    con: duckdb.DuckDBPyConnection,
    client: MlflowClient,
    family: ModelFamily,
    as_of: dt.date,
) -> DeploymentDay:
    state = read_states(con).get(family.model_name)
    if state is None or not state.active:
        return _start_if_new_challenger(con, client, family, state, as_of)
    since = started_recorded_at(con, state) or state.started_at
    alerts = stopping_alerts(critical_alerts(con, family.model_name, since), state)
    if alerts:
        after, transition = roll_back(state, alerts[0].describe(), as_of)
    else:
        decision = None
        if state.stage in (AB_TEST, SHADOW) and as_of > state.updated_at.date():
            decision = judge(con, client, family, state, as_of)
        after, transition = next_state(state, as_of, decision, SPECIFICATION_AB_TEST.duration_days)
        if after.stage == FULL and transition is not None:
            promote_to_champion(family.model_name, after.challenger_version, client)
    write_state(con, after)
    transitions = () if transition is None else (transition,)
    append_transitions(con, transitions)
    note = transition.reason if transition else f"{after.stage} at {after.challenger_share:.0%}"
    return DeploymentDay(family.model_name, after, transitions, note)


@dataclass(frozen=True)
class ServingPlan:
    """Which version serves which client of one model today: the champion, except for the
    clients the running A/B test or rollout gives to the challenger (the product's split)."""

    model_name: str
    champion_version: str | None
    challenger_version: str | None = None
    challenger_share: float = 0.0

    def version_for(self, client_id: str) -> str | None:
        if self.challenger_version is None or self.challenger_share <= 0:
            return self.champion_version
        salt = experiment_salt(self.model_name, self.challenger_version)
        if arm_for(client_id, self.challenger_share, salt) == CHALLENGER_ARM:
            return self.challenger_version
        return self.champion_version

    def versions(self, client_ids: pl.Series) -> pl.Series:
        """The serving version of each client, in order."""
        return pl.Series(
            "model_version", [self.version_for(c) for c in client_ids], dtype=pl.String
        )


def serving_plan(
    con: duckdb.DuckDBPyConnection, client: MlflowClient, model_name: str
) -> ServingPlan:
    """Today's plan for `model_name`: read from its deployment (monitoring.rollout_state) and the
    registry's champion."""
    champion = version_behind_alias(model_name, CHAMPION, client)
    state = read_states(con).get(model_name)
    if state is None or state.stage not in (AB_TEST, ROLLOUT) or champion is None:
        return ServingPlan(model_name, champion)
    return ServingPlan(model_name, champion, state.challenger_version, state.challenger_share)


def admitted_plan(
    con: duckdb.DuckDBPyConnection,
    client: MlflowClient,
    model_name: str,
    candidate: str | None,
    passed: bool,
    log: logging.Logger,
) -> ServingPlan:
    """The gate's consequence for `candidate` (`admit_candidate`), logged, then today's plan: what
    every scoring mart does before it scores."""
    aliases = admit_candidate(client, model_name, str(candidate), passed)
    log.info("%s v%s: %s", model_name, candidate, ", ".join(aliases) or "not admitted")
    return serving_plan(con, client, model_name)


# Rows a model scores at once: a million clients are scored in bounded memory (a churn chunk's
# sequences, 30 days × 15 metrics of float32 per row, are 90 MB).
SCORING_CHUNK_ROWS = 50_000


def score_by_version(
    plan: ServingPlan,
    rows: pl.DataFrame,
    score: Callable[[str, pl.DataFrame], pl.DataFrame],
    key: str = "client_id",
    chunk_rows: int = SCORING_CHUNK_ROWS,
) -> pl.DataFrame:
    """Score each client's rows with the version serving it: `score(version, part)` once per
    version in the plan and chunk of at most `chunk_rows` rows, the parts concatenated. Rows keep
    their order within each version's part."""
    if rows.is_empty() or plan.champion_version is None:
        return score(str(plan.champion_version), rows)
    versions = plan.versions(rows[key])
    parts = [
        score(version, chunk)
        for version in versions.unique(maintain_order=True).to_list()
        for chunk in rows.filter(versions == version).iter_slices(chunk_rows)
    ]
    return pl.concat(parts, how="vertical_relaxed")
