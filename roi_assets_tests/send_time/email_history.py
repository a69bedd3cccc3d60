"""A hand-made email and platform history in a DuckDB warehouse, shaped like the staging and
feature tables the send-time state builder reads (only the columns it uses)."""

import duckdb

# client, time zone, stage
CLIENTS = [
    ("A", "America/New_York", "searching"),
    ("B", "America/Los_Angeles", "closing"),
    ("C", "America/Chicago", "prospecting"),  # never emailed
]
# send, client, sent at (UTC), hour of week (local), opened at, clicked at, label complete
SENDS = [
    # Monday 09:00 New York: a weekday-morning send, opened and clicked the same day
    ("s1", "A", "2025-01-06 14:00", 9, "2025-01-06 16:00", "2025-01-06 16:05", True),
    # Saturday 18:00 New York: a weekend-evening send, opened two hours later (after midnight UTC)
    ("s2", "A", "2025-01-11 23:00", 138, "2025-01-12 01:00", None, True),
    # Tuesday 22:00 New York: never opened
    ("s3", "A", "2025-01-15 03:00", 46, None, None, True),
    # Tuesday 09:00 Los Angeles, opened the next day
    ("s4", "B", "2025-01-07 17:00", 33, "2025-01-08 12:00", None, True),
    # Monday 09:00 Los Angeles: the same local hour of week as s1
    ("s6", "B", "2025-01-13 17:00", 9, None, None, True),
    # too recent to be labelled
    ("s5", "B", "2025-01-20 17:00", 9, None, None, False),
]
# client, event type, occurred at (UTC)
USER_EVENTS = [
    ("A", "login", "2025-01-07 13:00"),  # Tuesday 08:00 New York
    ("A", "document_view", "2025-01-12 16:00"),  # Sunday 11:00 New York
    ("A", "support_ticket", "2025-01-08 15:00"),  # not engagement with the platform's content
]


def build_email_history(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema staging")
    con.execute("create schema features")
    con.execute(
        "create table staging.stg_clients "
        "(client_id varchar, timezone varchar, transaction_stage varchar)"
    )
    con.executemany("insert into staging.stg_clients values (?, ?, ?)", CLIENTS)
    con.execute(
        "create table sends (send_id varchar, client_id varchar, sent_at timestamp, "
        "hour_of_week integer, opened_at timestamp, clicked_at timestamp, label_complete boolean)"
    )
    con.executemany("insert into sends values (?, ?, ?, ?, ?, ?, ?)", SENDS)
    con.execute(
        "create table staging.stg_email_sends as "
        "select s.send_id, s.client_id, s.sent_at, "
        "(s.sent_at at time zone 'UTC') at time zone c.timezone as sent_at_local "
        "from sends as s join staging.stg_clients as c using (client_id)"
    )
    con.execute(
        "create table staging.stg_email_events as "
        "select send_id, client_id, 'open' as event_type, opened_at as occurred_at from sends "
        "where opened_at is not null union all "
        "select send_id, client_id, 'click', clicked_at from sends where clicked_at is not null"
    )
    con.execute(
        "create table staging.stg_user_events "
        "(client_id varchar, event_type varchar, occurred_at timestamp)"
    )
    con.executemany("insert into staging.stg_user_events values (?, ?, ?)", USER_EVENTS)
    con.execute(
        "create table features.feat_email_engagement as "
        "select send_id, client_id, sent_at, hour_of_week, "
        "(opened_at is not null)::integer as opened_within_7d, "
        "(clicked_at is not null)::integer as clicked_within_7d, label_complete from sends"
    )
