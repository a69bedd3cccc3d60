"""An A/B test's outcomes read from what landed: the product's split, only sends whose 48 hours
have passed, engagement within those hours, and each client once in the evidence."""

from __future__ import annotations

import datetime as dt

import polars as pl

from roi_assets.deployment.outcomes import landed_outcomes, read_outcomes, write_outcomes
from roi_assets.deployment.split import arm_for
from roi_assets_tests.deployment.test_rollout_lifecycle import CLIENTS, day, land_day

KEY = "roi-engagement-open:2"


def outcomes(con, as_of: dt.date, engagement: str = "opened_at") -> pl.DataFrame:
    return landed_outcomes(con, KEY, "2", 0.2, day(1), as_of, engagement)


def test_without_landed_sends_there_is_nothing_to_judge(con):
    assert outcomes(con, day(7)).is_empty()


def test_only_sends_from_the_first_day_whose_48_hours_passed_before_the_verdict_count(con):
    for n in range(7):
        land_day(con, n, {"champion": 0.2, "challenger": 0.3})
    landed = outcomes(con, day(7))
    assert sorted(landed["day"].unique().to_list()) == [day(n) for n in range(1, 5)]
    assert landed.height == 4 * len(CLIENTS)


def test_each_client_s_arm_is_the_product_s_split(con):
    land_day(con, 1, {"champion": 0.2, "challenger": 0.3})
    landed = outcomes(con, day(4))
    assert landed["arm"].to_list() == [arm_for(c, 0.2, KEY) for c in landed["client_id"]]
    assert set(landed["model_version"]) == {"2"}


def test_an_open_counts_and_a_click_not_landed_does_not(con):
    land_day(con, 1, {"champion": 1.0, "challenger": 1.0})
    assert outcomes(con, day(4))["engaged"].all()
    assert not outcomes(con, day(4), engagement="clicked_at")["engaged"].any()


def test_logging_a_day_again_replaces_it_and_a_client_counts_once(con):
    for n in range(3):
        land_day(con, n, {"champion": 0.2, "challenger": 0.3})
    landed = outcomes(con, day(5))
    write_outcomes(con, landed)
    write_outcomes(con, landed)
    evidence = read_outcomes(con, KEY, before=day(5))
    assert evidence.height == len(CLIENTS)


def test_a_client_emailed_twice_in_a_day_counts_once_that_day_by_its_first_send(con):
    land_day(con, 1, {"champion": 0.0, "challenger": 0.0})  # 10:00, nobody opens
    evening = dt.datetime.combine(day(1), dt.time(18))
    con.execute(
        "insert into intermediate.int_email_outcomes values (?, ?, ?, ?, ?)",
        ["second-send", CLIENTS[0], evening, evening + dt.timedelta(hours=1), None],
    )
    landed = outcomes(con, day(4))

    assert landed.height == len(CLIENTS)
    first = landed.filter(pl.col("client_id") == CLIENTS[0])
    assert first["engaged"].to_list() == [False]  # the 10:00 send, not the evening's open
    assert write_outcomes(con, landed) == len(CLIENTS)
