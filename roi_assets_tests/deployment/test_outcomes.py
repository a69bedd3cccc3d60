"""A day of an experiment played from known probabilities: reproducible, split by the
experiment's salt, and fair to the version that targets better."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from roi_assets.deployment.outcomes import (
    draw_targeted_outcomes,
    due_on,
    read_outcomes,
    write_outcomes,
)
from roi_assets.deployment.split import CHALLENGER_ARM, CHAMPION_ARM, arm_for
from roi_assets_tests.deployment.test_rollout_lifecycle import (
    ORACLE_SCORES,
    POPULATION,
    RANDOM_SCORES,
)

KEY = "roi-engagement-open:2"
VERSIONS = {CHAMPION_ARM: "1", CHALLENGER_ARM: "2"}
DAY = dt.date(2025, 3, 3)


def draw(day=DAY, challenger_scores=ORACLE_SCORES, share=0.2):
    scores = {CHAMPION_ARM: RANDOM_SCORES, CHALLENGER_ARM: challenger_scores}
    return draw_targeted_outcomes(POPULATION, scores, VERSIONS, share, KEY, day)


def test_a_day_is_reproducible_and_the_next_day_draws_anew():
    assert draw().equals(draw())
    assert not draw()["engaged"].equals(draw(DAY + dt.timedelta(days=1))["engaged"])


def test_each_arm_reaches_half_of_its_clients_due_that_day_in_the_experiments_split():
    outcomes = draw()
    arms = dict(zip(outcomes["client_id"], outcomes["arm"], strict=True))
    assert all(due_on(c, DAY) and arm_for(c, 0.2, KEY) == arm for c, arm in arms.items())
    due = [c for c in POPULATION["client_id"] if due_on(c, DAY)]
    expected = {
        arm: round(sum(arm_for(c, 0.2, KEY) == arm for c in due) / 2)
        for arm in (CHAMPION_ARM, CHALLENGER_ARM)
    }
    assert dict(outcomes.group_by("arm").len().iter_rows()) == expected
    assert dict(zip(outcomes["arm"], outcomes["model_version"], strict=True)) == VERSIONS


def test_a_week_of_campaigns_emails_every_client_once():
    week = [
        [c for c in POPULATION["client_id"] if due_on(c, DAY + dt.timedelta(days=d))]
        for d in range(7)
    ]
    assert sorted(c for day in week for c in day) == sorted(POPULATION["client_id"])
    assert all(400 < len(day) < 740 for day in week)  # about 4,000 / 7 each


def test_the_version_that_targets_by_the_true_probabilities_engages_more():
    month = pl.concat(draw(DAY + dt.timedelta(days=d)) for d in range(28))
    rates = dict(month.group_by("arm").agg(pl.col("engaged").mean()).iter_rows())
    # top half by the true probability of U(0.05, 0.5) averages 0.39, a random half 0.275; the
    # challenger's 1,600 draws have a standard error of 0.012
    assert np.isclose(rates[CHALLENGER_ARM], 0.39, atol=0.03)
    assert np.isclose(rates[CHAMPION_ARM], 0.275, atol=0.02)


def test_logging_a_day_again_replaces_it(con):
    write_outcomes(con, draw())
    write_outcomes(con, draw())
    assert read_outcomes(con, KEY, before=DAY + dt.timedelta(days=1)).height == draw().height
    assert read_outcomes(con, KEY, before=DAY).height == 0


def test_a_client_logged_on_several_days_counts_once_in_the_evidence(con):
    first = draw()
    write_outcomes(con, first)
    write_outcomes(con, first.with_columns(day=pl.lit(DAY + dt.timedelta(days=1))))
    assert read_outcomes(con, KEY, before=DAY + dt.timedelta(days=2)).height == first.height
