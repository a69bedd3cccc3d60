import datetime as dt
import math

import duckdb
import pytest

from roi_assets.send_time.environment import STATE_FEATURES
from roi_assets.send_time.states import client_states, latest_moment, logged_send_states

from .email_history import build_email_history

LOG_366 = math.log(366.0)


@pytest.fixture
def con():
    connection = duckdb.connect()
    build_email_history(connection)
    yield connection
    connection.close()


def state_of(con, client_id: str, at: str) -> dict:
    states = client_states(con, dt.datetime.fromisoformat(at))
    return states.filter(states["client_id"] == client_id).row(0, named=True)


def test_a_state_counts_sends_before_its_moment_and_only_opens_whose_webhook_arrived_before_it(con):
    # s1 and s2 were sent; s2's open arrives at 01:00, after the moment
    state = state_of(con, "A", "2025-01-12 00:30")
    assert state["lifetime_open_rate"] == pytest.approx(0.5)
    assert state["recent_open_rate_30d"] == pytest.approx(0.5)
    assert state["click_through_rate"] == pytest.approx(0.5)
    assert state["email_frequency_score"] == pytest.approx(2 / 8)
    days_since_open = (
        dt.datetime(2025, 1, 12, 0, 30) - dt.datetime(2025, 1, 6, 16)
    ).total_seconds()
    assert state["days_since_last_open_scaled"] == pytest.approx(
        math.log1p(days_since_open / 86400) / LOG_366, rel=1e-5
    )


def test_the_open_profile_attributes_each_open_to_the_local_day_part_of_the_opened_send(con):
    before_second_open = state_of(con, "A", "2025-01-12 00:30")
    after_second_open = state_of(con, "A", "2025-01-12 02:00")
    assert before_second_open["weekday_morning_open_share"] == pytest.approx(1.0)
    assert before_second_open["weekend_evening_open_share"] == 0.0
    assert after_second_open["weekday_morning_open_share"] == pytest.approx(0.5)
    assert after_second_open["weekend_evening_open_share"] == pytest.approx(0.5)
    profile = [name for name in STATE_FEATURES if name.endswith("_open_share")]
    assert sum(after_second_open[name] for name in profile) == pytest.approx(1.0)


def test_the_utc_offset_and_stage_come_from_the_clients_time_zone_and_crm_record(con):
    new_york = state_of(con, "A", "2025-01-12 00:30")
    los_angeles_in_summer = state_of(con, "B", "2025-07-01 12:00")
    assert new_york["utc_offset_scaled"] == pytest.approx(-5 / 12)
    assert los_angeles_in_summer["utc_offset_scaled"] == pytest.approx(-7 / 12)
    assert new_york["stage_searching"] == 1.0
    assert sum(new_york[f] for f in STATE_FEATURES if f.startswith("stage_")) == 1.0


def test_a_client_never_emailed_has_an_empty_history_and_the_longest_recency(con):
    state = state_of(con, "C", "2025-02-01 00:00")
    assert state["lifetime_open_rate"] == 0.0
    assert state["email_frequency_score"] == 0.0
    assert state["days_since_last_open_scaled"] == pytest.approx(1.0)
    assert state["days_since_last_click_scaled"] == pytest.approx(1.0)


def test_client_states_hold_every_client_with_the_twenty_state_features(con):
    states = client_states(con, latest_moment(con))
    assert states["client_id"].to_list() == ["A", "B", "C"]
    assert states.columns == ["client_id", "as_of", "utc_offset_hours", *STATE_FEATURES]
    assert states["as_of"].unique().to_list() == [dt.datetime(2025, 1, 20, 17)]  # s5, the last


def test_logged_sends_are_the_labelled_ones_each_with_its_state_as_of_the_send(con):
    sends = logged_send_states(con)
    assert sends["send_id"].to_list() == ["s1", "s4", "s2", "s6", "s3"]
    first, _, second, *_ = sends.iter_rows(named=True)
    assert first["lifetime_open_rate"] == 0.0  # nothing before the first send
    assert second["lifetime_open_rate"] == pytest.approx(1.0)  # s1 opened before s2 went out
    assert second["hour_of_week"] == 138 and second["opened"] == 1


def test_the_logging_propensity_is_each_hours_share_of_the_logged_sends(con):
    sends = logged_send_states(con)
    share = dict(zip(sends["send_id"], sends["logging_propensity"], strict=True))
    assert share["s1"] == share["s6"] == pytest.approx(2 / 5)
    assert share["s2"] == share["s3"] == share["s4"] == pytest.approx(1 / 5)
