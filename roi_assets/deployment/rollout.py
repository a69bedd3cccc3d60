"""The deployment of one challenger as a state machine: A/B test, gradual rollout, full deployment.

    started ─► ab_test (20 %) ─promoted─► rollout (50 % → 80 % → 100 %) ─deployed─► full
           └─► shadow (0 %) ──┘ │ rejected    │ critical alert (any active stage)
                               ▼              ▼
                          rejected (0 %)   rolled_back (0 %, champion unchanged)

A model that decides (send time, content) is judged by an A/B test, its challenger serving a 20 %
arm; a model whose outcome matures later or that decides nothing alone is judged in shadow: it
scores everything, serves nothing, and is compared with the champion on matured labels. Both
then follow the same rollout.

The schedule is the specification's list of (challenger share, until day), counted from the day
the A/B test started: 20 % until day 7 (the A/B test itself), 50 % until day 14, 80 % until day
21, 100 % until day 28, then full deployment, when the challenger becomes champion. During the
100 % week the old champion still holds its alias, so a rollback is instant. An A/B test that ran
longer than planned (too few outcomes) shifts the rest of the schedule rather than skipping steps.

Functions here are pure: they take a state and the day's evidence and return the next state and
the transition to record; `deployment.lifecycle` applies them to the registry and the warehouse.
The clock is a date (the run's `as_of`), so a test can compress four weeks into a loop.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Literal

from roi_assets.deployment.ab_test import HOLD, PROMOTE, REJECT, ABTestResult

Stage = Literal["ab_test", "shadow", "rollout", "full", "rolled_back", "rejected"]
AB_TEST: Stage = "ab_test"
SHADOW: Stage = "shadow"
ROLLOUT: Stage = "rollout"
FULL: Stage = "full"
ROLLED_BACK: Stage = "rolled_back"
REJECTED: Stage = "rejected"
EVALUATION_STAGES: frozenset[Stage] = frozenset({AB_TEST, SHADOW})
ACTIVE_STAGES: frozenset[Stage] = frozenset({AB_TEST, SHADOW, ROLLOUT})

Event = Literal[
    "started",
    "held",
    "promoted",
    "advanced",
    "deployed",
    "rolled_back",
    "rejected",
    "updated_online",
]

# (challenger share, until day since the A/B test started), as the specification lists them.
ROLLOUT_SCHEDULE: tuple[tuple[float, int], ...] = ((0.2, 7), (0.5, 14), (0.8, 21), (1.0, 28))


def scheduled_share(day: int) -> float | None:
    """The challenger's share on `day` of the schedule; None once it is due for full deployment."""
    for share, until_day in ROLLOUT_SCHEDULE:
        if day < until_day:
            return share
    return None


def clock_time(as_of: dt.date) -> dt.datetime:
    """The state's timestamps are the clock's days (midnight UTC, stored naive)."""
    return dt.datetime.combine(as_of, dt.time())


@dataclass(frozen=True)
class RolloutState:
    """One model's current deployment: a row of monitoring.rollout_state."""

    model_name: str
    challenger_version: str
    champion_version: str
    stage: Stage
    challenger_share: float
    started_at: dt.datetime
    stage_started_at: dt.datetime
    updated_at: dt.datetime

    @property
    def active(self) -> bool:
        return self.stage in ACTIVE_STAGES


@dataclass(frozen=True)
class Transition:
    """A row of monitoring.deployment_transitions: what changed, on which day, and why."""

    model_name: str
    challenger_version: str
    champion_version: str
    event: Event
    from_stage: Stage | None
    to_stage: Stage
    challenger_share: float
    reason: str
    as_of: dt.date


def _transition(
    before: RolloutState | None, after: RolloutState, event: Event, reason: str, as_of: dt.date
) -> Transition:
    return Transition(
        model_name=after.model_name,
        challenger_version=after.challenger_version,
        champion_version=after.champion_version,
        event=event,
        from_stage=None if before is None else before.stage,
        to_stage=after.stage,
        challenger_share=after.challenger_share,
        reason=reason,
        as_of=as_of,
    )


def start_experiment(
    model_name: str,
    challenger_version: str,
    champion_version: str,
    as_of: dt.date,
    ab_share: float = ROLLOUT_SCHEDULE[0][0],
    stage: Stage = AB_TEST,
) -> tuple[RolloutState, Transition]:
    """A new live evaluation of `challenger_version` against `champion_version`, starting today:
    an A/B test (the challenger serves `ab_share`) or a shadow test (it serves nothing)."""
    if stage not in EVALUATION_STAGES:
        raise ValueError(f"a deployment starts in {sorted(EVALUATION_STAGES)}, not {stage!r}")
    now = clock_time(as_of)
    state = RolloutState(
        model_name,
        str(challenger_version),
        str(champion_version),
        stage,
        ab_share if stage == AB_TEST else 0.0,
        started_at=now,
        stage_started_at=now,
        updated_at=now,
    )
    reason = f"challenger v{challenger_version} differs from champion v{champion_version}"
    return state, _transition(None, state, "started", reason, as_of)


def roll_back(state: RolloutState, reason: str, as_of: dt.date) -> tuple[RolloutState, Transition]:
    """Stop an active deployment: the challenger gets no traffic, the champion keeps its alias."""
    now = clock_time(as_of)
    after = replace(
        state, stage=ROLLED_BACK, challenger_share=0.0, stage_started_at=now, updated_at=now
    )
    return after, _transition(state, after, "rolled_back", reason, as_of)


def next_state(
    state: RolloutState,
    as_of: dt.date,
    decision: ABTestResult | None,
    ab_duration_days: int = ROLLOUT_SCHEDULE[0][1],
) -> tuple[RolloutState, Transition | None]:
    """The state after the day `as_of`, given the live evaluation's verdict of that day (used only
    in the ab_test and shadow stages; None there means no verdict was reached and the test
    holds)."""
    if not state.active or as_of <= state.updated_at.date():
        return state, None
    now = clock_time(as_of)
    if state.stage in EVALUATION_STAGES:
        if decision is None or decision.decision == HOLD:
            after = replace(state, updated_at=now)
            reason = "no verdict for the day" if decision is None else decision.reason
            return after, _transition(state, after, "held", reason, as_of)
        if decision.decision == REJECT:
            after = replace(
                state, stage=REJECTED, challenger_share=0.0, stage_started_at=now, updated_at=now
            )
            return after, _transition(state, after, "rejected", decision.reason, as_of)
        if decision.decision == PROMOTE:
            share = scheduled_share(ab_duration_days)
            after = replace(
                state,
                stage=ROLLOUT,
                challenger_share=1.0 if share is None else share,
                stage_started_at=now,
                updated_at=now,
            )
            return after, _transition(state, after, "promoted", decision.reason, as_of)
        raise ValueError(f"unknown A/B decision {decision.decision!r}")
    day = ab_duration_days + (as_of - state.stage_started_at.date()).days
    share = scheduled_share(day)
    if share is None:
        after = replace(
            state,
            stage=FULL,
            challenger_share=1.0,
            champion_version=state.challenger_version,
            stage_started_at=now,
            updated_at=now,
        )
        reason = (
            f"rollout complete on day {day}: v{state.challenger_version} becomes champion, "
            f"v{state.champion_version} is kept as previous champion"
        )
        return after, _transition(state, after, "deployed", reason, as_of)
    after = replace(state, challenger_share=share, updated_at=now)
    if share == state.challenger_share:
        return after, None
    reason = f"day {day} of the rollout schedule: {state.challenger_share:.0%} -> {share:.0%}"
    return after, _transition(state, after, "advanced", reason, as_of)


def expected_share(state: RolloutState, ab_share: float = ROLLOUT_SCHEDULE[0][0]) -> set[float]:
    """The challenger shares a consistent state of this stage may hold."""
    if state.stage == AB_TEST:
        return {ab_share}
    if state.stage == SHADOW:
        return {0.0}
    if state.stage == ROLLOUT:
        return {share for share, _ in ROLLOUT_SCHEDULE[1:]}
    if state.stage == FULL:
        return {1.0}
    return {0.0}
