"""A challenger's whole deployment on a compressed clock: day 0 to day 30 in a loop.

Outcomes come from `draw_targeted_outcomes` on a synthetic population whose true engagement
probabilities are known: the better version targets by them, the worse one at random.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from roi_assets.deployment.daily_step import NOTHING_TO_DEPLOY, ab_test_verdict, advance_deployment
from roi_assets.deployment.outcomes import draw_targeted_outcomes, logged_days, write_outcomes
from roi_assets.deployment.rollout import AB_TEST, FULL, REJECTED, ROLLED_BACK
from roi_assets.deployment.split import CHALLENGER_ARM, CHAMPION_ARM, experiment_salt
from roi_assets.deployment.state_store import TRANSITIONS_TABLE, read_states
from roi_assets.resources.tracking import (
    CHALLENGER,
    CHAMPION,
    previous_champion,
    set_alias,
    version_behind_alias,
)
from roi_assets_tests.deployment.conftest import CHALLENGER_VERSION, CHAMPION_VERSION, MODEL_NAME

DAY_0 = dt.date(2025, 3, 3)
RNG = np.random.default_rng(1)
POPULATION = pl.DataFrame(
    {
        "client_id": [f"C{i:05d}" for i in range(4_000)],
        "true_probability": RNG.uniform(0.05, 0.5, 4_000),
    }
)
ORACLE_SCORES = POPULATION["true_probability"].to_numpy()
RANDOM_SCORES = RNG.random(4_000)


def run_day(con, registry, as_of: dt.date, challenger_scores=ORACLE_SCORES):
    """What the daily schedule does: log the A/B outcomes, decide, advance the deployment."""
    state = read_states(con).get(MODEL_NAME)
    decision = None
    if state is not None and state.stage == AB_TEST:
        key = experiment_salt(MODEL_NAME, state.challenger_version)
        missing = [
            state.started_at.date() + dt.timedelta(days=d)
            for d in range((as_of - state.started_at.date()).days)
        ]
        for day in sorted(set(missing) - logged_days(con, key)):
            write_outcomes(
                con,
                draw_targeted_outcomes(
                    POPULATION,
                    {CHAMPION_ARM: RANDOM_SCORES, CHALLENGER_ARM: challenger_scores},
                    {
                        CHAMPION_ARM: state.champion_version,
                        CHALLENGER_ARM: state.challenger_version,
                    },
                    state.challenger_share,
                    key,
                    day,
                ),
            )
        decision = ab_test_verdict(con, state, as_of)
    return advance_deployment(con, MODEL_NAME, as_of, decision, client=registry)


def transitions(con) -> list[tuple]:
    return con.execute(
        f"select as_of, event, to_stage, challenger_share, reason from {TRANSITIONS_TABLE} "
        "order by recorded_at, as_of"
    ).fetchall()


def day(n: int) -> dt.date:
    return DAY_0 + dt.timedelta(days=n)


def test_a_better_challenger_goes_through_ab_test_and_rollout_to_full_deployment(con, registry):
    shares = {}
    for n in range(31):
        result = run_day(con, registry, day(n))
        shares[n] = result.state.challenger_share
    events = [(row[0], row[1], row[3]) for row in transitions(con)]
    assert events == [
        (day(0), "started", 0.2),
        *[(day(n), "held", 0.2) for n in range(1, 7)],
        (day(7), "promoted", 0.5),
        (day(14), "advanced", 0.8),
        (day(21), "advanced", 1.0),
        (day(28), "deployed", 1.0),
    ]
    assert [shares[n] for n in (0, 6, 7, 13, 14, 20, 21, 27, 28, 30)] == [
        0.2, 0.2, 0.5, 0.5, 0.8, 0.8, 1.0, 1.0, 1.0, 1.0
    ]  # fmt: skip
    promoted = transitions(con)[7]
    assert "challenger wins" in promoted[4]
    state = read_states(con)[MODEL_NAME]
    assert (state.stage, state.champion_version) == (FULL, CHALLENGER_VERSION)
    assert version_behind_alias(MODEL_NAME, CHAMPION, registry) == CHALLENGER_VERSION
    assert previous_champion(MODEL_NAME, registry) == CHAMPION_VERSION
    decided = con.execute(
        "select decision, n_champion, n_challenger, rate_champion, rate_challenger, p_value "
        "from monitoring.ab_test_decisions where as_of = ?",
        [day(7)],
    ).fetchone()
    assert decided[0] == "promote"
    # a week of campaigns reaches every client once, each arm emails its top half:
    # 80 % and 20 % of 4,000 clients, halved
    assert decided[1] == pytest.approx(1_600, rel=0.05)
    assert decided[2] == pytest.approx(400, rel=0.2)
    assert decided[4] > decided[3] * 1.05 and decided[5] < 0.05


def write_alert(con, raised_at: dt.datetime, severity: str, version: str) -> None:
    con.execute("create schema if not exists monitoring")
    con.execute(
        "create table if not exists monitoring.alerts (alert_id varchar, raised_at timestamp, "
        "model_name varchar, model_version varchar, alert_type varchar, severity varchar, "
        "observed double, threshold double, message varchar, rolled_back_from varchar, "
        "rolled_back_to varchar)"
    )
    con.execute(
        "insert into monitoring.alerts values (?, ?, ?, ?, 'auc_drop', ?, 0.61, 0.7, "
        "'AUC fell below its floor', null, null)",
        [f"a-{raised_at:%j%H}", raised_at, MODEL_NAME, version, severity],
    )


def test_a_critical_alert_mid_rollout_rolls_the_challenger_back(con, registry):
    for n in range(16):
        run_day(con, registry, day(n))
    assert read_states(con)[MODEL_NAME].challenger_share == 0.8
    write_alert(con, dt.datetime.combine(day(15), dt.time(9)), "warning", CHALLENGER_VERSION)
    run_day(con, registry, day(16))
    assert read_states(con)[MODEL_NAME].challenger_share == 0.8  # a warning does not stop it
    write_alert(con, dt.datetime.combine(day(16), dt.time(12)), "critical", CHALLENGER_VERSION)
    # the same day's re-run sees the alert raised after the morning run
    result = run_day(con, registry, day(16))
    assert [t.event for t in result.transitions] == ["rolled_back"]
    assert "critical alert auc_drop on v2" in result.transitions[0].reason
    for n in range(17, 31):
        run_day(con, registry, day(n))
    state = read_states(con)[MODEL_NAME]
    assert (state.stage, state.challenger_share) == (ROLLED_BACK, 0.0)
    assert version_behind_alias(MODEL_NAME, CHAMPION, registry) == CHAMPION_VERSION
    last = transitions(con)[-1]
    assert (last[0], last[1], last[3]) == (day(16), "rolled_back", 0.0)
    assert "AUC fell below its floor" in last[4]


def test_re_running_days_records_no_duplicate_transition(con, registry):
    for n in range(16):
        run_day(con, registry, day(n))
    once = transitions(con)
    for n in (0, 3, 7, 14, 15):
        run_day(con, registry, day(n))
    assert [row[:4] for row in transitions(con)] == [row[:4] for row in once]
    assert read_states(con)[MODEL_NAME].challenger_share == 0.8


def test_a_challenger_no_better_than_the_champion_is_rejected_and_not_retried(con, registry):
    for n in range(12):
        run_day(con, registry, day(n), challenger_scores=RANDOM_SCORES)
    state = read_states(con)[MODEL_NAME]
    assert (state.stage, state.challenger_share) == (REJECTED, 0.0)
    assert [row[1] for row in transitions(con)][-1] == "rejected"
    assert version_behind_alias(MODEL_NAME, CHAMPION, registry) == CHAMPION_VERSION
    assert sum(row[1] == "started" for row in transitions(con)) == 1


def test_a_model_whose_challenger_is_its_champion_has_nothing_to_deploy(con, registry):
    set_alias(MODEL_NAME, CHALLENGER, CHAMPION_VERSION, registry)
    result = run_day(con, registry, day(0))
    assert result.state is None and not result.transitions
    assert result.note.startswith(NOTHING_TO_DEPLOY)
