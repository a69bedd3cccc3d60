"""The send-time optimizer's 20-dimensional client state, built from the warehouse point in time.

One SQL query computes the state of a client at any moment t from what had happened strictly before
t: sends before t, opens and clicks whose webhook arrived before t. It serves two purposes with the
same code, so training and serving see identical features:

- `logged_send_states`: the state of every labelled logged send as of its send time, with the local
  hour of week it went out at, its outcome and the logging policy's estimated propensity;
- `client_states`: the state of every client as of one moment (the warehouse's latest), the input
  of evaluation and of the recommendations mart.

Layout and scaling follow `environment.STATE_FEATURES`. The hour-of-week profile attributes each
open to the local day-part of the send that was opened (not to the moment of the open, which lags
the send by hours and says little about when the client reads). The history features repeat the
definitions of features.feat_email_engagement (a test holds them equal) because that table only has
rows at send times, while serving needs the state at any moment.

Reads staging.stg_email_sends, staging.stg_email_events, staging.stg_clients and, for labels,
features.feat_email_engagement; never the truth schema.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from roi_assets.send_time.environment import STATE_FEATURES
from roi_assets.simulator.catalog import TRANSACTION_STAGES

DAY_PARTS = ("night", "morning", "afternoon", "evening")  # local hours 0-6, 6-12, 12-18, 18-24
NEVER_DAYS = 365.0  # days since the last open/click when there was none, as in the feature table
RECENT_DAYS = 30
SENDS_PER_30_DAYS_AT_FULL_FREQUENCY = 8.0  # two a week, as email_frequency_score defines it

_PROFILE_COLUMNS = [
    f"{days}_{part}_open_share" for days in ("weekday", "weekend") for part in DAY_PARTS
]

_CUMULATIVE_CELL_OPENS = ",\n".join(
    f"sum(count(*) filter (where profile_cell = {cell})) over running as cum_opens_cell_{cell}"
    for cell in range(8)
)
_CELL_OPENS_AS_OF = ",\n".join(
    f"coalesce(now_.cum_opens_cell_{cell}, 0) as opens_cell_{cell}" for cell in range(8)
)
_PROFILE_SHARES = ",\n".join(
    f"coalesce(h.opens_cell_{cell} / nullif(h.cum_opens, 0), 0.0) as {name}"
    for cell, name in enumerate(_PROFILE_COLUMNS)
)
_STAGE_ONE_HOT = ",\n".join(
    f"(c.transaction_stage = '{stage}')::double as stage_{stage}" for stage in TRANSACTION_STAGES
)

# The common table expressions after `points` (point_id, client_id, at), which the caller
# supplies: the state as of each point's `at`.
_STATE_SQL = f"""
sends as (
    select
        send_id,
        client_id,
        sent_at,
        (isodow(sent_at_local) >= 6)::integer * 4 + hour(sent_at_local) // 6 as profile_cell
    from staging.stg_email_sends
),

first_events as (
    select
        send_id,
        min(occurred_at) filter (where event_type = 'open') as opened_at,
        min(occurred_at) filter (where event_type = 'click') as clicked_at
    from staging.stg_email_events
    group by send_id
),

timeline_events as (
    select client_id, sent_at as ts, 1 as sends, 0 as opens, 0 as clicks, null as profile_cell
    from sends
    union all
    select s.client_id, e.opened_at, 0, 1, 0, s.profile_cell
    from sends as s
    inner join first_events as e using (send_id)
    where e.opened_at is not null
    union all
    select s.client_id, e.clicked_at, 0, 0, 1, null
    from sends as s
    inner join first_events as e using (send_id)
    where e.clicked_at is not null
),

timeline as (
    select
        client_id,
        ts,
        sum(sum(sends)) over running as cum_sends,
        sum(sum(opens)) over running as cum_opens,
        sum(sum(clicks)) over running as cum_clicks,
        max(max(ts) filter (where opens = 1)) over running as last_open_at,
        max(max(ts) filter (where clicks = 1)) over running as last_click_at,
        {_CUMULATIVE_CELL_OPENS}
    from timeline_events
    group by client_id, ts
    window running as (
        partition by client_id order by ts rows between unbounded preceding and current row
    )
),

history as (
    select
        p.point_id,
        p.client_id,
        p.at,
        coalesce(now_.cum_sends, 0) as cum_sends,
        coalesce(now_.cum_opens, 0) as cum_opens,
        coalesce(now_.cum_clicks, 0) as cum_clicks,
        coalesce(now_.cum_sends, 0) - coalesce(w30.cum_sends, 0) as recent_sends,
        coalesce(now_.cum_opens, 0) - coalesce(w30.cum_opens, 0) as recent_opens,
        now_.last_open_at,
        now_.last_click_at,
        {_CELL_OPENS_AS_OF}
    from points as p
    asof left join timeline as now_
        on now_.client_id = p.client_id and now_.ts < p.at
    asof left join timeline as w30
        on w30.client_id = p.client_id and w30.ts < p.at - interval {RECENT_DAYS} day
)

select
    h.point_id,
    h.client_id,
    h.at,
    coalesce(h.cum_opens / nullif(h.cum_sends, 0), 0.0) as lifetime_open_rate,
    coalesce(h.recent_opens / nullif(h.recent_sends, 0), 0.0) as recent_open_rate_30d,
    coalesce(h.cum_clicks / nullif(h.cum_sends, 0), 0.0) as click_through_rate,
    least(h.recent_sends / {SENDS_PER_30_DAYS_AT_FULL_FREQUENCY}, 1.0) as email_frequency_score,
    ln(1 + least(coalesce(date_diff('second', h.last_open_at, h.at) / 86400.0, {NEVER_DAYS}),
        {NEVER_DAYS})) / ln(1 + {NEVER_DAYS}) as days_since_last_open_scaled,
    ln(1 + least(coalesce(date_diff('second', h.last_click_at, h.at) / 86400.0, {NEVER_DAYS}),
        {NEVER_DAYS})) / ln(1 + {NEVER_DAYS}) as days_since_last_click_scaled,
    {_PROFILE_SHARES},
    date_diff('minute', h.at, (h.at at time zone 'UTC') at time zone c.timezone) / 60.0
        as utc_offset_hours,
    utc_offset_hours / 12.0 as utc_offset_scaled,
    {_STAGE_ONE_HOT}
from history as h
inner join staging.stg_clients as c using (client_id)
"""


def _state_frame(con: duckdb.DuckDBPyConnection, points_sql: str, parameters: list) -> pl.DataFrame:
    frame = con.execute(f"with points as ({points_sql}), {_STATE_SQL}", parameters).pl()
    return frame.with_columns(pl.col(*STATE_FEATURES).cast(pl.Float32))


def latest_moment(con: duckdb.DuckDBPyConnection) -> dt.datetime:
    """The latest send or email event the warehouse holds: "now" for scoring the simulated world."""
    found = con.execute(
        "select greatest((select max(sent_at) from staging.stg_email_sends), "
        "(select max(occurred_at) from staging.stg_email_events))"
    ).fetchone()
    if found is None or found[0] is None:
        raise ValueError("the warehouse holds no email sends yet")
    return found[0]


def client_states(con: duckdb.DuckDBPyConnection, as_of: dt.datetime) -> pl.DataFrame:
    """One row per client: client_id, as_of, utc_offset_hours and the state as of `as_of`."""
    frame = _state_frame(
        con,
        "select client_id as point_id, client_id, ?::timestamp as at from staging.stg_clients",
        [as_of],
    )
    return frame.select(
        "client_id",
        pl.col("at").alias("as_of"),
        "utc_offset_hours",
        *STATE_FEATURES,
    ).sort("client_id")


def logged_send_states(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per labelled logged send: send_id, client_id, sent_at, hour_of_week (local),
    opened, clicked, logging_propensity and the state as of the send.

    The logging propensity of hour h is the share of all logged sends that went out at h: the
    product assigns hours without looking at the client, so the population's share estimates the
    probability its logging policy had of choosing h for any one send.
    """
    frame = _state_frame(
        con,
        "select send_id as point_id, client_id, sent_at as at "
        "from features.feat_email_engagement where label_complete",
        [],
    )
    labels = con.execute(
        "select send_id, hour_of_week, opened_within_7d as opened, clicked_within_7d as clicked, "
        "count(*) over (partition by hour_of_week) / count(*) over () as logging_propensity "
        "from features.feat_email_engagement where label_complete"
    ).pl()
    return (
        frame.rename({"point_id": "send_id", "at": "sent_at"})
        .join(labels, on="send_id", how="inner")
        .select(
            "send_id",
            "client_id",
            "sent_at",
            "hour_of_week",
            "opened",
            "clicked",
            "logging_propensity",
            *STATE_FEATURES,
        )
        .sort("sent_at", "send_id")
    )
