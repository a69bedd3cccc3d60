import datetime as dt
import math

import duckdb
import polars as pl
import pytest

from roi_assets.send_time.environment import STATE_FEATURES
from roi_assets.send_time.states import (
    StateBuilder,
    build_timeline,
    client_groups,
    client_states,
    history_as_of,
    latest_moment,
    logged_send_states,
)

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


def test_the_engagement_profile_counts_opens_when_opened_and_platform_sessions_in_local_time(con):
    before_second_open = state_of(con, "A", "2025-01-12 00:30")
    after_second_open = state_of(con, "A", "2025-01-12 02:00")
    after_document_view = state_of(con, "A", "2025-01-12 17:00")
    # s1 opened Monday 11:00 New York, a login Tuesday 08:00: two weekday mornings
    assert before_second_open["engagement_share_morning"] == pytest.approx(1.0)
    assert before_second_open["weekend_engagement_share"] == 0.0
    # s2 opened Saturday 20:00 New York, a weekend evening
    assert after_second_open["engagement_share_evening"] == pytest.approx(1 / 3)
    assert after_second_open["weekend_engagement_share"] == pytest.approx(1 / 3)
    # a document view Sunday 11:00 makes 11:00 the peak, a weekend habit (per day); the support
    # ticket is not counted
    state = after_document_view
    angle = 2 * math.pi * 11 / 24
    assert state["engagement_peak_hour_sin"] == pytest.approx(math.sin(angle), abs=1e-6)
    assert state["engagement_peak_hour_cos"] == pytest.approx(math.cos(angle), abs=1e-6)
    assert state["engagement_peak_share"] == pytest.approx(2 / 4)
    assert state["engagement_peak_at_weekends"] == 1.0
    assert state["engagement_share_morning"] == pytest.approx(3 / 4)
    assert state["weekend_engagement_share"] == pytest.approx(2 / 4)
    parts = [f"engagement_share_{part}" for part in ("night", "morning", "afternoon", "evening")]
    assert sum(state[name] for name in parts) == pytest.approx(1.0)
    assert state["engagement_events_scaled"] == pytest.approx(math.log(5) / math.log(1001))


def test_recent_sends_and_the_emails_unopened_since_the_last_open_change_between_sends(con):
    waiting = state_of(con, "A", "2025-01-11 23:30")  # s2 just sent, s1 opened
    opened = state_of(con, "A", "2025-01-12 02:00")  # s2's open arrived
    a_week_on = state_of(con, "A", "2025-01-14 00:00")
    assert waiting["unopened_since_last_open_scaled"] == pytest.approx(1 / 10)
    assert opened["unopened_since_last_open_scaled"] == 0.0
    assert waiting["sends_last_7d_scaled"] == pytest.approx(2 / 4)
    assert a_week_on["sends_last_7d_scaled"] == pytest.approx(1 / 4)  # s1 left the week
    days_since_login = (
        dt.datetime(2025, 1, 11, 23, 30) - dt.datetime(2025, 1, 7, 13)
    ).total_seconds()
    assert waiting["days_since_last_activity_scaled"] == pytest.approx(
        math.log1p(days_since_login / 86400) / LOG_366, rel=1e-5
    )


def test_the_utc_offset_comes_from_the_clients_time_zone(con):
    new_york = state_of(con, "A", "2025-01-12 00:30")
    los_angeles_in_summer = state_of(con, "B", "2025-07-01 12:00")
    assert new_york["utc_offset_scaled"] == pytest.approx(-5 / 12)
    assert los_angeles_in_summer["utc_offset_scaled"] == pytest.approx(-7 / 12)


def test_a_client_never_emailed_has_an_empty_history_and_the_longest_recency(con):
    state = state_of(con, "C", "2025-02-01 00:00")
    assert state["lifetime_open_rate"] == 0.0
    assert state["email_frequency_score"] == 0.0
    assert state["days_since_last_open_scaled"] == pytest.approx(1.0)
    assert state["days_since_last_click_scaled"] == pytest.approx(1.0)
    assert state["engagement_events_scaled"] == 0.0
    assert state["engagement_peak_hour_sin"] == state["engagement_peak_hour_cos"] == 0.0


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


def test_the_logging_propensity_is_each_hours_share_of_the_same_weeks_logged_sends(con):
    sends = logged_send_states(con)
    share = dict(zip(sends["send_id"], sends["logging_propensity"], strict=True))
    assert share["s1"] == share["s2"] == share["s4"] == pytest.approx(1 / 3)  # week of Jan 6
    assert share["s6"] == share["s3"] == pytest.approx(1 / 2)  # week of Jan 13


def test_a_daily_run_states_only_the_newly_labelled_sends_and_gets_the_full_answer(con):
    full = logged_send_states(con)
    before_s3 = full.filter(full["send_id"] != "s3")  # yesterday's output: s3 not labelled yet
    assert logged_send_states(con, known=before_s3).equals(full)


def test_known_states_are_reused_except_within_a_week_of_the_newest(con):
    full = logged_send_states(con)
    tampered = full.with_columns(lifetime_open_rate=pl.lit(0.5, dtype=pl.Float32))
    again = logged_send_states(con, known=tampered)
    reused = dict(zip(again["send_id"], again["lifetime_open_rate"], strict=True))
    # s1 and s4 went out over a week before s3, the newest known send: their states are kept
    assert reused["s1"] == reused["s4"] == 0.5
    # the others are stated again from the history
    expected = dict(zip(full["send_id"], full["lifetime_open_rate"], strict=True))
    assert [reused[s] for s in ("s2", "s6", "s3")] == [expected[s] for s in ("s2", "s6", "s3")]


def test_known_states_of_another_contract_are_not_reused(con):
    full = logged_send_states(con)
    assert logged_send_states(con, known=full.drop("lifetime_open_rate")).equals(full)


def test_one_builder_gives_the_same_states_as_separate_calls(con):
    builder = StateBuilder(con)
    moment = latest_moment(con)
    assert builder.client_states(moment).equals(client_states(con, moment))
    assert builder.logged_send_states().equals(logged_send_states(con))


def _event(client: str, at: str, sends=0, opens=0, engaged=0, hour=None, active=False) -> dict:
    return {
        "client_id": client,
        "ts": dt.datetime.fromisoformat(at),
        "sends": sends,
        "opens": opens,
        "clicks": 0,
        "engaged": engaged,
        "engaged_hour": hour,
        "weekend": False,
        "active": active,
    }


def test_a_history_reads_the_running_totals_strictly_before_its_moment_and_per_window():
    timeline = build_timeline(
        pl.DataFrame(
            [
                _event("A", "2025-01-01 09:00", sends=1),
                _event("A", "2025-01-01 10:00", opens=1, engaged=1, hour=10),
                _event("A", "2025-02-05 09:00", sends=1),
                _event("A", "2025-02-06 09:00", sends=1),
                _event("B", "2025-02-06 09:00", engaged=1, hour=9, active=True),
            ]
        )
    )
    points = pl.DataFrame(
        {
            "point_id": ["at A's third send", "A before anything", "B after its visit"],
            "client_id": ["A", "A", "B"],
            "at": [dt.datetime(2025, 2, 6, 9), dt.datetime(2025, 1, 1), dt.datetime(2025, 2, 7)],
        }
    )
    history = {row["point_id"]: row for row in history_as_of(points, timeline).to_dicts()}

    third = history["at A's third send"]
    assert (third["cum_sends"], third["cum_opens"]) == (2, 1)  # not the send at that moment
    assert (third["recent_sends"], third["recent_opens"], third["week_sends"]) == (1, 0, 1)
    assert third["unopened_since"] == 1
    assert third["engaged_weekday_10"] == 1
    assert third["last_open_at"] == dt.datetime(2025, 1, 1, 10)
    nothing = history["A before anything"]
    assert (nothing["cum_sends"], nothing["engaged"], nothing["last_open_at"]) == (0, 0, None)
    visit = history["B after its visit"]
    assert (visit["engaged_weekday_09"], visit["cum_sends"]) == (1, 0)
    assert visit["last_active_at"] == dt.datetime(2025, 2, 6, 9)


def test_stating_the_clients_in_groups_gives_the_states_of_one_pass(con):
    moment = latest_moment(con)
    whole = StateBuilder(con)
    grouped = StateBuilder(con, max_events=3)  # a handful of events per group of clients
    states, sends = grouped.client_and_logged_send_states(moment)
    assert grouped.groups > 1
    assert states.equals(whole.client_states(moment))
    assert sends.equals(whole.logged_send_states())


def test_a_history_is_split_into_groups_of_at_most_the_allowed_events():
    assert client_groups(0) == 1
    assert client_groups(2_000_000, max_events=2_000_000) == 1
    assert client_groups(2_000_001, max_events=2_000_000) == 2
    assert client_groups(14_000_000, max_events=2_000_000) == 7
