"""A challenger's whole lifecycle on a compressed clock: day 0 to day 30 in a loop.

The test plays the world: every client gets an email at 10:00 each day and the landed opens go
to intermediate.int_email_outcomes, the table the product builds from the landing zone. Clients
in the challenger's arm (the product's own split) open more often when the challenger decides
better. Shadow tests get their per-row losses from a scorer the test controls.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import polars as pl
import pytest

from roi_assets.deployment.lifecycle import (
    NOTHING_TO_DEPLOY,
    ModelFamily,
    ShadowRequest,
    advance,
    serving_plan,
)
from roi_assets.deployment.rollout import AB_TEST, FULL, REJECTED, ROLLED_BACK, SHADOW
from roi_assets.deployment.shadow import LOSS_CHALLENGER, LOSS_CHAMPION
from roi_assets.deployment.split import CHALLENGER_ARM, arm_for, experiment_salt
from roi_assets.deployment.state_store import TRANSITIONS_TABLE, read_states
from roi_assets.resources.tracking import (
    CANDIDATE,
    CHALLENGER,
    CHAMPION,
    previous_champion,
    set_alias,
    version_behind_alias,
)
from roi_assets_tests.deployment.conftest import CHALLENGER_VERSION, CHAMPION_VERSION, MODEL_NAME

DAY_0 = dt.date(2025, 3, 3)
CLIENTS = [f"C{i:05d}" for i in range(4_000)]
A_B = ModelFamily(MODEL_NAME, "ab_test", engagement="opened_at")


def day(n: int) -> dt.date:
    return DAY_0 + dt.timedelta(days=n)


def land_day(con, n: int, open_rate: dict[str, float], seed: int = 0) -> None:
    """The landed sends and opens of day n: the challenger's arm opens at its rate."""
    rng = np.random.default_rng(seed * 1_000 + n)
    salt = experiment_salt(MODEL_NAME, CHALLENGER_VERSION)
    sent_at = dt.datetime.combine(day(n), dt.time(10))
    arms = [arm_for(c, 0.2, salt) for c in CLIENTS]
    opened = rng.random(len(CLIENTS)) < np.array([open_rate[a] for a in arms])
    frame = pl.DataFrame(
        {
            "send_id": [f"{c}-{n}" for c in CLIENTS],
            "client_id": CLIENTS,
            "sent_at": [sent_at] * len(CLIENTS),
            "opened_at": [sent_at + dt.timedelta(hours=3) if o else None for o in opened],
            "clicked_at": [None] * len(CLIENTS),
        },
        schema_overrides={"opened_at": pl.Datetime("us"), "clicked_at": pl.Datetime("us")},
    )
    con.execute("create schema if not exists intermediate")
    con.register("landed", frame.to_arrow())
    con.execute(
        "create table if not exists intermediate.int_email_outcomes as "
        "select * from landed where false"
    )
    con.execute(
        "delete from intermediate.int_email_outcomes where cast(sent_at as date) = ?", [day(n)]
    )
    con.execute("insert into intermediate.int_email_outcomes select * from landed")
    con.unregister("landed")


BETTER = {"champion": 0.20, CHALLENGER_ARM: 0.30}
SAME = {"champion": 0.20, CHALLENGER_ARM: 0.20}


def live(con, registry, days: range, open_rate=BETTER, family: ModelFamily = A_B):
    """Each day: the world lands the day before, then the deployment step runs."""
    result = None
    for n in days:
        if n > 0:
            land_day(con, n - 1, open_rate)
        result = advance(con, registry, family, day(n))
    return result


def transitions(con) -> list[tuple]:
    return con.execute(
        f"select as_of, event, to_stage, challenger_share, reason from {TRANSITIONS_TABLE} "
        "order by recorded_at, as_of"
    ).fetchall()


def test_a_better_challenger_goes_through_ab_test_and_rollout_to_champion(con, registry):
    shares = {}
    for n in range(31):
        shares[n] = live(con, registry, range(n, n + 1)).state.challenger_share
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
    assert transitions(con)[0][2] == AB_TEST
    assert "challenger wins" in transitions(con)[7][4]
    assert (
        read_states(con)[MODEL_NAME].stage,
        version_behind_alias(MODEL_NAME, CHAMPION, registry),
    ) == (
        FULL,
        CHALLENGER_VERSION,
    )
    assert previous_champion(MODEL_NAME, registry) == CHAMPION_VERSION
    decided = con.execute(
        "select decision, n_champion, n_challenger, rate_champion, rate_challenger, p_value "
        "from monitoring.ab_test_decisions where as_of = ?",
        [day(7)],
    ).fetchone()
    # sends of days 1..4 have had their 48 hours by day 7; each client counts once
    assert decided[0] == "promote"
    assert decided[1] + decided[2] == len(CLIENTS)
    assert decided[2] == pytest.approx(0.2 * len(CLIENTS), rel=0.1)
    assert decided[3] == pytest.approx(0.20, abs=0.03)
    assert decided[4] == pytest.approx(0.30, abs=0.05)


def test_the_ab_outcomes_are_the_landed_sends_of_the_product_s_arms(con, registry):
    live(con, registry, range(8))
    outcomes = con.execute(
        "select client_id, arm, min(day) as first_day, max(day) as last_day "
        "from monitoring.ab_outcomes group by all"
    ).pl()
    salt = experiment_salt(MODEL_NAME, CHALLENGER_VERSION)
    assert outcomes.height == len(CLIENTS)
    assert outcomes["arm"].to_list() == [arm_for(c, 0.2, salt) for c in outcomes["client_id"]]
    assert (outcomes["first_day"].min(), outcomes["last_day"].max()) == (day(1), day(4))


def test_during_the_ab_test_the_challenger_serves_its_arm_only(con, registry):
    live(con, registry, range(3))
    plan = serving_plan(con, registry, MODEL_NAME)
    versions = plan.versions(pl.Series(CLIENTS))
    assert (versions == CHALLENGER_VERSION).mean() == pytest.approx(0.2, abs=0.03)
    assert set(versions.unique()) == {CHAMPION_VERSION, CHALLENGER_VERSION}


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
        [f"a-{severity}", raised_at, MODEL_NAME, version, severity],
    )


def test_a_critical_alert_mid_rollout_rolls_the_challenger_back(con, registry):
    live(con, registry, range(16))
    assert read_states(con)[MODEL_NAME].challenger_share == 0.8
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    write_alert(con, now, "warning", CHALLENGER_VERSION)
    live(con, registry, range(16, 17))
    assert read_states(con)[MODEL_NAME].challenger_share == 0.8  # a warning does not stop it
    write_alert(con, now, "critical", CHALLENGER_VERSION)
    result = live(con, registry, range(17, 18))
    assert [t.event for t in result.transitions] == ["rolled_back"]
    assert "critical alert auc_drop on v2" in result.transitions[0].reason
    live(con, registry, range(18, 31))
    state = read_states(con)[MODEL_NAME]
    assert (state.stage, state.challenger_share) == (ROLLED_BACK, 0.0)
    assert version_behind_alias(MODEL_NAME, CHAMPION, registry) == CHAMPION_VERSION
    assert serving_plan(con, registry, MODEL_NAME).challenger_version is None


def test_a_critical_alert_on_the_champion_leaves_the_challenger_s_rollout_running(con, registry):
    live(con, registry, range(8))
    write_alert(con, dt.datetime.now(dt.UTC).replace(tzinfo=None), "critical", CHAMPION_VERSION)
    live(con, registry, range(8, 30))
    assert read_states(con)[MODEL_NAME].stage == FULL
    assert version_behind_alias(MODEL_NAME, CHAMPION, registry) == CHALLENGER_VERSION
    assert "rolled_back" not in [row[1] for row in transitions(con)]


def test_a_candidate_its_gate_rejects_is_recorded_once_with_the_gate_s_reasons(con, registry):
    source = registry.get_model_version(MODEL_NAME, CHAMPION_VERSION).source
    rejected = str(registry.create_model_version(MODEL_NAME, source=source).version)
    set_alias(MODEL_NAME, CANDIDATE, rejected, registry)
    gated = replace(A_B, gate=lambda con, version: (version != rejected, "lift 41 % < 70 %"))
    live(con, registry, range(3), family=gated)
    recorded = [row for row in transitions(con) if row[1] == "rejected"]
    assert [(row[0], row[2]) for row in recorded] == [(day(0), REJECTED)]
    assert f"candidate v{rejected} failed its validation gate: lift 41 % < 70 %" == recorded[0][4]
    assert read_states(con)[MODEL_NAME].challenger_version == CHALLENGER_VERSION


def test_re_running_days_records_no_duplicate_transition(con, registry):
    live(con, registry, range(16))
    once = transitions(con)
    for n in (0, 3, 7, 14, 15):
        advance(con, registry, A_B, day(n))
    assert [row[:4] for row in transitions(con)] == [row[:4] for row in once]
    assert read_states(con)[MODEL_NAME].challenger_share == 0.8


def test_a_challenger_no_better_than_the_champion_is_rejected_and_not_retried(con, registry):
    live(con, registry, range(12), open_rate=SAME)
    state = read_states(con)[MODEL_NAME]
    assert (state.stage, state.challenger_share) == (REJECTED, 0.0)
    assert [row[1] for row in transitions(con)][-1] == "rejected"
    assert version_behind_alias(MODEL_NAME, CHAMPION, registry) == CHAMPION_VERSION
    assert sum(row[1] == "started" for row in transitions(con)) == 1


def test_a_model_whose_challenger_is_its_champion_has_nothing_to_deploy(con, registry):
    set_alias(MODEL_NAME, CHALLENGER, CHAMPION_VERSION, registry)
    result = advance(con, registry, A_B, day(0))
    assert result.state is None and not result.transitions
    assert result.note.startswith(NOTHING_TO_DEPLOY)


def shadow_family(challenger_loss: float) -> ModelFamily:
    """A shadow-tested family whose matured rows (300 a day since the test started) give the
    challenger the per-row loss `challenger_loss` against the champion's 0.5."""

    def losses(request: ShadowRequest) -> pl.DataFrame:
        rows = 300 * (request.as_of - request.since).days
        rng = np.random.default_rng(rows)
        return pl.DataFrame(
            {
                LOSS_CHAMPION: 0.5 + rng.normal(0, 0.1, rows),
                LOSS_CHALLENGER: challenger_loss + rng.normal(0, 0.1, rows),
            }
        )

    return ModelFamily(MODEL_NAME, "shadow", shadow_losses=losses, metric="log_loss")


def test_a_shadow_tested_challenger_serves_no_one_until_it_wins_on_matured_labels(con, registry):
    family = shadow_family(challenger_loss=0.45)
    for n in range(7):
        state = advance(con, registry, family, day(n)).state
        assert (state.stage, state.challenger_share) == (SHADOW, 0.0)
        assert serving_plan(con, registry, MODEL_NAME).challenger_version is None
    promoted = advance(con, registry, family, day(7))
    assert [t.event for t in promoted.transitions] == ["promoted"]
    assert "challenger wins in shadow" in promoted.note
    assert promoted.state.challenger_share == 0.5
    for n in range(8, 29):
        advance(con, registry, family, day(n))
    assert version_behind_alias(MODEL_NAME, CHAMPION, registry) == CHALLENGER_VERSION


def test_a_broken_challenger_is_rejected_in_shadow_and_the_champion_keeps_serving(con, registry):
    family = shadow_family(challenger_loss=2.0)
    for n in range(8):
        advance(con, registry, family, day(n))
    state = read_states(con)[MODEL_NAME]
    assert (state.stage, state.challenger_share) == (REJECTED, 0.0)
    assert "challenger not better in shadow" in transitions(con)[-1][4]
    assert version_behind_alias(MODEL_NAME, CHAMPION, registry) == CHAMPION_VERSION
