"""The send-time optimizer's 20-dimensional client state, built from the warehouse point in time.

One SQL query computes the state of a client at any moment t from what had happened strictly before
t: sends before t, opens and clicks whose webhook arrived before t, platform sessions before t. It
serves two purposes with the same code, so training and serving see identical features:

- `logged_send_states`: the state of every labelled logged send as of its send time, with the local
  hour of week it went out at, its outcome and the logging policy's estimated propensity;
- `client_states`: the state of every client as of one moment (the warehouse's latest), the input
  of evaluation and of the recommendations mart.

Layout and scaling follow `environment.STATE_FEATURES`: what changes between two sends (history
rates, recent sends, emails left unopened since the last open, recency) and what reveals the
client's hours: when in the local day (and week) it engages, counted at the moment it happened:
each open when it was opened, each login and document view (`engagement_hour_features`). The
history rates repeat the definitions of features.feat_email_engagement (a test holds them equal)
because that table only has rows at send times, while serving needs the state at any moment.

Reads staging.stg_email_sends, staging.stg_email_events, staging.stg_user_events,
staging.stg_clients and, for labels, features.feat_email_engagement; never the truth schema.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import polars as pl

from roi_assets.send_time.environment import DAY_PARTS, STATE_FEATURES

NEVER_DAYS = 365.0  # days since the last open/click when there was none, as in the feature table
RECENT_DAYS = 30
WEEK_DAYS = 7
SENDS_PER_30_DAYS_AT_FULL_FREQUENCY = 8.0  # two a week, as email_frequency_score defines it
SENDS_PER_WEEK_AT_FULL_FREQUENCY = 4.0
UNOPENED_AT_FULL_FATIGUE = 10.0
ENGAGEMENT_EVENTS_AT_FULL_CONFIDENCE = 1000.0  # log-scaled count of opens, logins, document views
# Platform events that say the client is around (opens are counted from the email events).
ACTIVITY_EVENTS = ("login", "document_view")
WEEKDAYS, WEEKEND_DAYS = 5, 2
_HOUR_CELLS = [(weekend, hour) for weekend in (False, True) for hour in range(24)]


def _cell(weekend: bool, hour: int) -> str:
    return f"{'weekend' if weekend else 'weekday'}_{hour:02d}"


_CUMULATIVE_CELLS = ",\n".join(
    f"sum(sum(engaged) filter (where weekend = {str(w).lower()} and engaged_hour = {h})) "
    f"over running as cum_{_cell(w, h)}"
    for w, h in _HOUR_CELLS
)
_CELLS_AS_OF = ",\n".join(
    f"coalesce(now_.cum_{_cell(w, h)}, 0) as engaged_{_cell(w, h)}" for w, h in _HOUR_CELLS
)
_ACTIVITY_TYPES = ", ".join(f"'{event}'" for event in ACTIVITY_EVENTS)


def _local(column: str) -> str:
    return f"({column} at time zone 'UTC') at time zone c.timezone"


# Every client's running totals at each of its events: the part of a state's cost that grows with
# the whole history, built once per connection into a temporary table (`StateBuilder`).
TIMELINE_TABLE = "send_time_timeline"
_TIMELINE_SQL = f"""
with first_events as (
    select
        send_id,
        min(occurred_at) filter (where event_type = 'open') as opened_at,
        min(occurred_at) filter (where event_type = 'click') as clicked_at
    from staging.stg_email_events
    group by send_id
),

activity as (
    select u.client_id, u.occurred_at, {_local("u.occurred_at")} as local_at
    from staging.stg_user_events as u
    inner join staging.stg_clients as c using (client_id)
    where u.event_type in ({_ACTIVITY_TYPES})
),

timeline_events as (
    select client_id, sent_at as ts, 1 as sends, 0 as opens, 0 as clicks, 0 as engaged,
        null::integer as engaged_hour, false as weekend, false as active
    from staging.stg_email_sends
    union all
    select s.client_id, e.opened_at, 0, 1, 0, 1, hour({_local("e.opened_at")}),
        isodow({_local("e.opened_at")}) >= 6, false
    from staging.stg_email_sends as s
    inner join first_events as e using (send_id)
    inner join staging.stg_clients as c on c.client_id = s.client_id
    where e.opened_at is not null
    union all
    select s.client_id, e.clicked_at, 0, 0, 1, 0, null, false, false
    from staging.stg_email_sends as s
    inner join first_events as e using (send_id)
    where e.clicked_at is not null
    union all
    select client_id, occurred_at, 0, 0, 0, 1, hour(local_at),
        isodow(local_at) >= 6, true
    from activity
),

running_totals as (
    select
        client_id,
        ts,
        sum(sum(sends)) over running as cum_sends,
        sum(sum(opens)) over running as cum_opens,
        sum(sum(clicks)) over running as cum_clicks,
        sum(sum(engaged)) over running as cum_engaged,
        max(max(ts) filter (where opens = 1)) over running as last_open_at,
        max(max(ts) filter (where clicks = 1)) over running as last_click_at,
        max(max(ts) filter (where active)) over running as last_active_at,
        sum(opens) > 0 as opened_here,
        {_CUMULATIVE_CELLS}
    from timeline_events
    group by client_id, ts
    window running as (
        partition by client_id order by ts rows between unbounded preceding and current row
    )
),

timeline as (
    -- sends made up to the last open: the ones after it are the emails left unopened since
    select
        *,
        max(case when opened_here then cum_sends end) over (
            partition by client_id order by ts rows between unbounded preceding and current row
        ) as sends_at_last_open
    from running_totals
)

select * from timeline
"""

# The common table expressions after `points` (point_id, client_id, at), which the caller
# supplies: the state as of each point's `at`, read from the timeline.
_STATE_SQL = f"""
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
        coalesce(now_.cum_sends, 0) - coalesce(w7.cum_sends, 0) as week_sends,
        coalesce(now_.cum_sends, 0) - coalesce(now_.sends_at_last_open, 0) as unopened_since,
        coalesce(now_.cum_engaged, 0) as engaged,
        now_.last_open_at,
        now_.last_click_at,
        now_.last_active_at,
        {_CELLS_AS_OF}
    from points as p
    asof left join {TIMELINE_TABLE} as now_
        on now_.client_id = p.client_id and now_.ts < p.at
    asof left join {TIMELINE_TABLE} as w30
        on w30.client_id = p.client_id and w30.ts < p.at - interval {RECENT_DAYS} day
    asof left join {TIMELINE_TABLE} as w7
        on w7.client_id = p.client_id and w7.ts < p.at - interval {WEEK_DAYS} day
)

select
    h.point_id,
    h.client_id,
    h.at,
    coalesce(h.cum_opens / nullif(h.cum_sends, 0), 0.0) as lifetime_open_rate,
    coalesce(h.recent_opens / nullif(h.recent_sends, 0), 0.0) as recent_open_rate_30d,
    coalesce(h.cum_clicks / nullif(h.cum_sends, 0), 0.0) as click_through_rate,
    least(h.recent_sends / {SENDS_PER_30_DAYS_AT_FULL_FREQUENCY}, 1.0) as email_frequency_score,
    least(h.week_sends / {SENDS_PER_WEEK_AT_FULL_FREQUENCY}, 1.0) as sends_last_7d_scaled,
    least(h.unopened_since / {UNOPENED_AT_FULL_FATIGUE}, 1.0) as unopened_since_last_open_scaled,
    ln(1 + least(coalesce(date_diff('second', h.last_open_at, h.at) / 86400.0, {NEVER_DAYS}),
        {NEVER_DAYS})) / ln(1 + {NEVER_DAYS}) as days_since_last_open_scaled,
    ln(1 + least(coalesce(date_diff('second', h.last_click_at, h.at) / 86400.0, {NEVER_DAYS}),
        {NEVER_DAYS})) / ln(1 + {NEVER_DAYS}) as days_since_last_click_scaled,
    ln(1 + least(coalesce(date_diff('second', h.last_active_at, h.at) / 86400.0, {NEVER_DAYS}),
        {NEVER_DAYS})) / ln(1 + {NEVER_DAYS}) as days_since_last_activity_scaled,
    least(ln(1 + h.engaged) / ln(1 + {ENGAGEMENT_EVENTS_AT_FULL_CONFIDENCE}), 1.0)
        as engagement_events_scaled,
    columns('^engaged_week'),  -- the hour cells, reduced by engagement_hour_features
    date_diff('minute', h.at, (h.at at time zone 'UTC') at time zone c.timezone) / 60.0
        as utc_offset_hours,
    utc_offset_hours / 12.0 as utc_offset_scaled
from history as h
inner join staging.stg_clients as c using (client_id)
"""


def engagement_hour_features(weekday: np.ndarray, weekend: np.ndarray) -> dict[str, np.ndarray]:
    """The state's hour features from engagement counts per local hour of day, (n, 24) on
    weekdays and at weekends: the peak hour of day (the most frequent; sine and cosine, zeros
    without events), the share of events within an hour of it, whether it is a weekend habit
    (more engagement per day at that hour at weekends), the shares of four day-parts and of
    weekends."""
    weekday, weekend = np.asarray(weekday, dtype=np.float64), np.asarray(weekend, dtype=np.float64)
    total = weekday + weekend
    events = total.sum(axis=1)
    some = events > 0
    safe = np.where(some, events, 1.0)
    peak = total.argmax(axis=1)
    rows = np.arange(len(total))
    near = sum(total[rows, (peak + step) % 24] for step in (-1, 0, 1))
    angle = 2 * np.pi * peak / 24
    parts = total.reshape(len(total), 4, 6).sum(axis=2) / safe[:, None]
    features = {
        "engagement_peak_hour_sin": np.where(some, np.sin(angle), 0.0),
        "engagement_peak_hour_cos": np.where(some, np.cos(angle), 0.0),
        "engagement_peak_share": near / safe,
        "engagement_peak_at_weekends": (
            weekend[rows, peak] / WEEKEND_DAYS > weekday[rows, peak] / WEEKDAYS
        ).astype(np.float64),
        "weekend_engagement_share": weekend.sum(axis=1) / safe,
    }
    for index, part in enumerate(DAY_PARTS):
        features[f"engagement_share_{part}"] = parts[:, index]
    return features


def latest_moment(con: duckdb.DuckDBPyConnection) -> dt.datetime:
    """The latest send or email event the warehouse holds: "now" for scoring the simulated world."""
    found = con.execute(
        "select greatest((select max(sent_at) from staging.stg_email_sends), "
        "(select max(occurred_at) from staging.stg_email_events))"
    ).fetchone()
    if found is None or found[0] is None:
        raise ValueError("the warehouse holds no email sends yet")
    return found[0]


class StateBuilder:
    """Point-in-time states read from one connection, sharing one build of the timeline: every
    client's state at one moment and every labelled send's state at its send time cost one pass
    over the history, not one each."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._timeline_built = False

    def _states(self, points_sql: str, parameters: list) -> pl.DataFrame:
        if not self._timeline_built:
            self.con.execute(f"create or replace temp table {TIMELINE_TABLE} as {_TIMELINE_SQL}")
            self._timeline_built = True
        frame = self.con.execute(f"with points as ({points_sql}), {_STATE_SQL}", parameters).pl()
        cells = [f"engaged_{_cell(w, h)}" for w, h in _HOUR_CELLS]
        counts = frame.select(cells).to_numpy().astype(np.float64)
        hours = engagement_hour_features(counts[:, :24], counts[:, 24:])
        return (
            frame.drop(cells)
            .with_columns(pl.Series(name, values) for name, values in hours.items())
            .with_columns(pl.col(*STATE_FEATURES).cast(pl.Float32))
        )

    def client_states(self, as_of: dt.datetime) -> pl.DataFrame:
        """One row per client: client_id, as_of, utc_offset_hours and the state as of `as_of`."""
        frame = self._states(
            "select client_id as point_id, client_id, ?::timestamp as at from staging.stg_clients",
            [as_of],
        )
        return frame.select(
            "client_id",
            pl.col("at").alias("as_of"),
            "utc_offset_hours",
            *STATE_FEATURES,
        ).sort("client_id")

    def logged_send_states(self, known: pl.DataFrame | None = None) -> pl.DataFrame:
        """One row per labelled logged send: send_id, client_id, sent_at, hour_of_week (local),
        opened, clicked, logging_propensity and the state as of the send.

        `known`: the states computed before (this method's earlier output), kept for the sends
        sent more than `RESTATE_DAYS` before the newest of them, so a daily run states only the
        sends labelled since. A state reads the events before its send, at least 7 days before
        the send was labelled, and a landing file arrives at most a few days late, so a kept
        state cannot have changed. Labels and propensities are read afresh for every send: a
        late open can still change a label.

        The logging propensity of hour h is the share of the same week's logged sends that went
        out at h: the policy in force that week, pooled over clients. For the legacy policy,
        which chose hours without looking at the client, that is its probability of choosing h;
        for a policy that personalises it understates the propensity of each client's own hour
        (the importance weights built on it are clipped, see `off_policy`).
        """
        kept = _reusable_states(known)
        self.con.register("known_send_states", kept.select("send_id").to_arrow())
        try:
            fresh = self._states(
                "select send_id as point_id, client_id, sent_at as at "
                "from features.feat_email_engagement where label_complete and send_id not in "
                "(select send_id from known_send_states)",
                [],
            ).rename({"point_id": "send_id", "at": "sent_at"})
        finally:
            self.con.unregister("known_send_states")
        labels = self.con.execute(
            "select send_id, hour_of_week, opened_within_7d as opened, "
            "clicked_within_7d as clicked, "
            "count(*) over (partition by date_trunc('week', sent_at), hour_of_week) "
            "/ count(*) over (partition by date_trunc('week', sent_at)) as logging_propensity "
            "from features.feat_email_engagement where label_complete"
        ).pl()
        states = pl.concat([kept, fresh.select(kept.columns)], how="vertical_relaxed")
        return (
            states.join(labels, on="send_id", how="inner")
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


# Known states of sends this close to the newest known one are computed again (see
# `StateBuilder.logged_send_states`): the label window, longer than any landing delay.
RESTATE_DAYS = 7
_STATE_KEY = ("send_id", "client_id", "sent_at")


def _reusable_states(known: pl.DataFrame | None) -> pl.DataFrame:
    """The known states still valid: none when there are none or their columns are not today's
    state (the state's contract changed)."""
    columns = [*_STATE_KEY, *STATE_FEATURES]
    empty = pl.DataFrame(
        schema={"send_id": pl.String, "client_id": pl.String, "sent_at": pl.Datetime("us")}
        | {name: pl.Float32 for name in STATE_FEATURES}
    )
    if known is None or known.is_empty() or not set(columns) <= set(known.columns):
        return empty
    cutoff = known["sent_at"].max() - dt.timedelta(days=RESTATE_DAYS)
    return known.filter(pl.col("sent_at") < cutoff).select(columns).cast(empty.schema)


def client_states(con: duckdb.DuckDBPyConnection, as_of: dt.datetime) -> pl.DataFrame:
    """One row per client: client_id, as_of, utc_offset_hours and the state as of `as_of`."""
    return StateBuilder(con).client_states(as_of)


def logged_send_states(
    con: duckdb.DuckDBPyConnection, known: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Every labelled logged send with its state as of the send (`StateBuilder`)."""
    return StateBuilder(con).logged_send_states(known)
