import datetime as dt

import duckdb
import pandas as pd
import polars as pl
import pytest

from roi_assets.evaluation.business_impact import (
    daily_impact,
    live_days,
    record_tier_counts,
    uplift_table,
)

DAY = dt.date(2025, 10, 3)


@pytest.fixture
def warehouse():
    con = duckdb.connect()
    con.execute("create schema truth; create schema raw")
    policies = {"product": 0.30, "legacy": 0.20, "random_hour": 0.15, "oracle_hour": 0.40}
    rows = [
        (f"E{i}", DAY, policy, p_open, p_open / 10)
        for i in range(4)
        for policy, p_open in policies.items()
    ]
    frame = pd.DataFrame(rows, columns=["send_id", "decision_date", "policy", "p_open", "p_click"])
    con.register("rows", frame)
    con.execute("create table truth.send_policy_probabilities as select * from rows")
    con.execute(
        "create table raw.email_events as select * from (values "
        "('E0', 'open'), ('E0', 'click'), ('E1', 'open'), ('E1', 'open')) as t(send_id, event_type)"
    )
    con.execute(
        "create table truth.retention_actions as select * from (values "
        f"(date '{DAY}', 'C1', 0.5, 0.3), (date '{DAY}', 'C2', 0.1, 0.06)) "
        "as t(action_date, client_id, p_churn_30_without, p_churn_30_with)"
    )
    con.execute(
        f"create table truth.retention_random_list as select date '{DAY}' as action_date, "
        "2 as list_size, 0.02 as expected_saves"
    )
    return con


def _value(impact, policy, metric):
    return impact.filter((pl.col("policy") == policy) & (pl.col("metric") == metric))["value"][0]


def test_expected_rates_compare_every_policy_on_the_same_sends(warehouse):
    impact = daily_impact(warehouse)
    assert _value(impact, "product", "open_rate") == pytest.approx(0.30)
    assert _value(impact, "legacy", "open_rate") == pytest.approx(0.20)
    assert set(impact.filter(pl.col("metric") == "open_rate")["units"]) == {4}


def test_realised_rates_count_each_send_once_whatever_the_repeated_webhooks(warehouse):
    impact = daily_impact(warehouse)
    assert _value(impact, "product", "open_rate_realised") == pytest.approx(2 / 4)
    assert _value(impact, "product", "click_rate_realised") == pytest.approx(1 / 4)


def test_churn_saves_of_the_watch_list_are_judged_against_a_random_list(warehouse):
    uplift = uplift_table(daily_impact(warehouse))
    churn = uplift.filter(pl.col("metric") == "churn_saves").row(0, named=True)
    assert churn["against"] == "random_list"
    assert churn["product"] == pytest.approx(0.24)
    assert churn["uplift"] == pytest.approx(0.24 / 0.02 - 1)


def test_open_rate_uplift_is_against_the_hour_policies_only(warehouse):
    uplift = uplift_table(daily_impact(warehouse)).filter(pl.col("metric") == "open_rate")
    assert set(uplift["against"]) == {"legacy", "random_hour", "oracle_hour"}
    legacy = uplift.filter(pl.col("against") == "legacy")["uplift"][0]
    assert legacy == pytest.approx(0.30 / 0.20 - 1)


def test_before_the_first_live_day_there_is_no_impact():
    con = duckdb.connect()
    assert daily_impact(con).is_empty()
    assert uplift_table(daily_impact(con)).is_empty()


def test_saves_are_also_counted_per_100_clients_contacted(warehouse):
    uplift = uplift_table(daily_impact(warehouse))
    per_100 = uplift.filter(pl.col("metric") == "saves_per_100_contacted").row(0, named=True)

    assert per_100["against"] == "random_list"
    assert per_100["product"] == pytest.approx(100 * 0.24 / 2)
    assert per_100["baseline"] == pytest.approx(100 * 0.02 / 2)


def test_the_customers_targets_stand_next_to_the_product_and_the_oracle(warehouse):
    uplift = uplift_table(daily_impact(warehouse))
    legacy = uplift.filter((pl.col("metric") == "open_rate") & (pl.col("against") == "legacy"))

    row = legacy.row(0, named=True)
    assert row["target"] == pytest.approx(0.25)
    assert row["oracle_uplift"] == pytest.approx(0.40 / 0.20 - 1)
    others = uplift.filter((pl.col("metric") == "open_rate") & (pl.col("against") != "legacy"))
    assert others["target"].null_count() == others.height


def _mart_and_truth(con, probabilities, true_probabilities, snapshot):
    con.execute("create schema if not exists marts")
    scored = pd.DataFrame(
        {
            "client_id": [f"C{i}" for i in range(len(probabilities))],
            "window_days": 30,
            "snapshot_date": snapshot,
            "probability": probabilities,
            "p_churn": true_probabilities,
        }
    )
    con.register("scored", scored)
    con.execute(
        "create or replace table marts.churn_risk as "
        "select client_id, window_days, snapshot_date, probability from scored"
    )
    con.execute(
        "create or replace table truth.churn_probabilities as "
        "select client_id, snapshot_date, window_days, p_churn from scored"
    )
    con.unregister("scored")


def test_each_tier_of_the_mart_is_counted_next_to_the_truths_count(warehouse):
    _mart_and_truth(warehouse, [0.05, 0.35, 0.40, 0.65, 0.1], [0.02, 0.5, 0.2, 0.9, 0.35], DAY)

    assert record_tier_counts(warehouse) == 4

    uplift = uplift_table(daily_impact(warehouse)).filter(pl.col("against") == "truth")
    counts = {
        row["metric"]: (row["product"], row["baseline"]) for row in uplift.iter_rows(named=True)
    }
    assert counts == {
        "clients_low_30d": (2, 2),
        "clients_medium_30d": (2, 2),
        "clients_high_30d": (1, 0),
        "clients_critical_30d": (0, 1),
    }


def test_a_tier_snapshot_taken_before_the_live_days_is_not_counted_as_a_live_day(warehouse):
    snapshot_before = DAY - dt.timedelta(days=4)
    _mart_and_truth(warehouse, [0.05, 0.65], [0.02, 0.9], snapshot_before)
    record_tier_counts(warehouse)

    impact = daily_impact(warehouse)

    assert snapshot_before in set(impact["impact_date"])
    assert live_days(impact) == 1


def test_a_rescored_snapshot_replaces_its_counts_and_the_latest_snapshot_is_shown(warehouse):
    _mart_and_truth(warehouse, [0.05, 0.35], [0.02, 0.5], DAY)
    record_tier_counts(warehouse)
    _mart_and_truth(warehouse, [0.05, 0.05], [0.02, 0.5], DAY)
    record_tier_counts(warehouse)
    later = DAY + dt.timedelta(days=7)
    _mart_and_truth(warehouse, [0.65, 0.05, 0.05], [0.02, 0.02, 0.02], later)
    record_tier_counts(warehouse)

    stored = warehouse.execute(
        "select snapshot_date, tier, clients from monitoring.churn_tier_counts "
        "where tier = 'low' order by snapshot_date"
    ).fetchall()
    assert stored == [(DAY, "low", 2), (later, "low", 2)]
    latest = uplift_table(daily_impact(warehouse)).filter(pl.col("metric") == "clients_high_30d")
    assert latest.row(0, named=True)["product"] == 1


def test_without_a_mart_no_tier_is_recorded(warehouse):
    assert record_tier_counts(warehouse) == 0
