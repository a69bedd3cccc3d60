"""The send-time optimizer's 20-dimensional client state, built from the warehouse point in time.

The same code computes the state of a client at any moment t from what had happened strictly
before t (each client's running totals over its events, read as of t): sends before t, opens and
clicks whose webhook arrived before t, platform sessions before t. It serves two purposes, so
training and serving see identical features:

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
import uuid

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


_ACTIVITY_TYPES = ", ".join(f"'{event}'" for event in ACTIVITY_EVENTS)


def _local(column: str) -> str:
    return f"({column} at time zone 'UTC') at time zone c.timezone"


# Every client's events, one row per send, first open, first click and platform visit; the local
# hours need the clients' time zones, so this part is SQL.
_TIMELINE_EVENTS_SQL = f"""
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
)

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
select client_id, occurred_at, 0, 0, 0, 1, hour(local_at), isodow(local_at) >= 6, true
from activity
"""

_COUNTS = ("sends", "opens", "clicks", "engaged")
_LATEST = {"last_open_at": "opens", "last_click_at": "clicks", "last_active_at": "active"}


def build_timeline(events: pl.DataFrame) -> pl.DataFrame:
    """Every client's running totals at each moment it had an event (`_TIMELINE_EVENTS_SQL`'s
    rows), sorted by time: sends, opens, clicks and engagements so far, engagements per local
    hour cell, the latest open, click and visit, and the sends made up to the latest open.

    Cumulative sums and forward fills over each client's rows, in polars: DuckDB's window
    aggregates made one pass per running column (55 of them), 21 s a day at the default scale
    against about 1 s here.
    """
    cell = pl.col("weekend").cast(pl.Int32) * 24 + pl.col("engaged_hour")
    engaged = pl.col("engaged") == 1
    per_moment = (
        events.group_by("client_id", "ts")
        .agg(
            *(pl.col(column).sum().alias(f"cum_{column}") for column in _COUNTS),
            *(
                pl.col("ts").filter(pl.col(flag).cast(pl.Boolean)).max().alias(latest)
                for latest, flag in _LATEST.items()
            ),
            (pl.col("opens").sum() > 0).alias("opened_here"),
            *(
                (engaged & (cell == index)).sum().alias(f"cum_{_cell(weekend, hour)}")
                for index, (weekend, hour) in enumerate(_HOUR_CELLS)
            ),
        )
        .sort("client_id", "ts")
    )
    running = [column for column in per_moment.columns if column.startswith("cum_")]
    return (
        per_moment.with_columns(
            pl.col(running).cast(pl.Int64).cum_sum().over("client_id"),
            pl.col(*_LATEST).forward_fill().over("client_id"),
        )
        .with_columns(
            pl.when("opened_here")
            .then("cum_sends")
            .forward_fill()
            .over("client_id")
            .fill_null(0)
            .alias("sends_at_last_open")
        )
        .drop("opened_here")
        .sort("ts")
    )


def history_as_of(points: pl.DataFrame, timeline: pl.DataFrame) -> pl.DataFrame:
    """For each point (point_id, client_id, at): the client's running totals from the last
    moment strictly before `at`, the sends and opens of the last 30 and 7 days, and the sends
    since the latest open. Points before a client's first event read zeros."""
    points = points.sort("at")

    def totals_before(shift_days: int, columns: list[str], suffix: str) -> pl.DataFrame:
        cut = pl.col("at") - dt.timedelta(days=shift_days)
        return (
            points.with_columns(cut.alias("cut"))  # sorted as `at` is
            .join_asof(
                timeline.select("client_id", "ts", *columns),
                left_on="cut",
                right_on="ts",
                by="client_id",
                strategy="backward",
                allow_exact_matches=False,  # strictly before: the state never sees its own send
                check_sortedness=False,  # both sorted above; polars cannot check within groups
            )
            .select("point_id", *(pl.col(column).alias(column + suffix) for column in columns))
        )

    counts = [f"cum_{column}" for column in _COUNTS]
    cells = [f"cum_{_cell(w, h)}" for w, h in _HOUR_CELLS]
    now_ = totals_before(0, [*counts, "sends_at_last_open", *_LATEST, *cells], "")
    month = totals_before(RECENT_DAYS, ["cum_sends", "cum_opens"], "_30d")
    week = totals_before(WEEK_DAYS, ["cum_sends"], "_7d")
    frame = (
        points.join(now_, on="point_id")
        .join(month, on="point_id")
        .join(week, on="point_id")
        .with_columns(pl.col(pl.Int64).fill_null(0))  # the totals before any event
    )
    return frame.select(
        "point_id",
        "client_id",
        "at",
        *counts[:3],
        (pl.col("cum_sends") - pl.col("cum_sends_30d")).alias("recent_sends"),
        (pl.col("cum_opens") - pl.col("cum_opens_30d")).alias("recent_opens"),
        (pl.col("cum_sends") - pl.col("cum_sends_7d")).alias("week_sends"),
        (pl.col("cum_sends") - pl.col("sends_at_last_open")).alias("unopened_since"),
        pl.col("cum_engaged").alias("engaged"),
        *_LATEST,
        *(pl.col(f"cum_{_cell(w, h)}").alias(f"engaged_{_cell(w, h)}") for w, h in _HOUR_CELLS),
    )


# The state as of each point, from its history (`history_as_of`, registered as `HISTORY`).
HISTORY = "send_time_history"
_STATE_SQL = f"""
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
from {HISTORY} as h
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


# A timeline holds about 60 running columns per event: at 100,000 clients (4.2 million sends and
# their events) stating every client and send from the whole of it peaked at 17.0 GiB, in seven
# groups at 6.7 GiB (15 % slower). So a history is stated a group of clients at a time (a client's
# running totals read only its own events), each group at most this many events.
MAX_EVENTS_PER_GROUP = 2_000_000


def client_groups(n_events: int, max_events: int = MAX_EVENTS_PER_GROUP) -> int:
    """How many groups of clients a history of `n_events` events is stated in."""
    return max(1, -(-n_events // max_events))


class StateBuilder:
    """Point-in-time states read from one connection, sharing one read of the events: every
    client's state at one moment and every labelled send's state at its send time cost one pass
    over the history, not one each. A history larger than `MAX_EVENTS_PER_GROUP` events is
    stated one group of clients at a time; `client_and_logged_send_states` then builds each
    group's timeline once for both tables (separate calls build it again)."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, max_events: int = MAX_EVENTS_PER_GROUP
    ) -> None:
        self.con = con
        self.max_events = max_events
        self._groups: int | None = None
        self._timeline: pl.DataFrame | None = None  # kept when there is one group
        self._events = f"send_time_events_{uuid.uuid4().hex}"  # a temporary table of its own

    @property
    def groups(self) -> int:
        """How many groups of clients the history is stated in (`client_groups`); the first call
        reads the events into the builder's temporary table."""
        if self._groups is None:
            self.con.execute(f"create temp table {self._events} as {_TIMELINE_EVENTS_SQL}")
            (n_events,) = self.con.execute(f"select count(*) from {self._events}").fetchone()
            self._groups = client_groups(n_events, self.max_events)
        return self._groups

    def _timeline_of(self, group: int, groups: int) -> pl.DataFrame:
        if groups == 1 and self._timeline is not None:
            return self._timeline
        events = self.con.execute(
            f"select * from {self._events} where hash(client_id) % ? = ?", [groups, group]
        ).pl()
        timeline = build_timeline(events)
        if groups == 1:  # kept whole: the events are not read again
            self._timeline = timeline
            self.con.execute(f"drop table {self._events}")
        return timeline

    def _states(self, *queries: tuple[str, list]) -> list[pl.DataFrame]:
        """The states at the points of each query (SQL giving point_id, client_id, at; its
        parameters), a group of clients at a time: one timeline per group serves every query."""
        groups = self.groups
        parts: list[list[pl.DataFrame]] = [[] for _ in queries]
        for group in range(groups):
            timeline = self._timeline_of(group, groups)
            for found, (points_sql, parameters) in zip(parts, queries, strict=True):
                points = self.con.execute(
                    f"select * from ({points_sql}) where hash(client_id) % ? = ?",
                    [*parameters, groups, group],
                ).pl()
                found.append(self._point_states(points, timeline))
        return [pl.concat(found, how="vertical_relaxed") for found in parts]

    def _point_states(self, points: pl.DataFrame, timeline: pl.DataFrame) -> pl.DataFrame:
        self.con.register(HISTORY, history_as_of(points, timeline).to_arrow())
        try:
            frame = self.con.execute(_STATE_SQL).pl()
        finally:
            self.con.unregister(HISTORY)
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
        (frame,) = self._states(_client_points(as_of))
        return _as_client_states(frame)

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
        return self.client_and_logged_send_states(None, known)[1]

    def client_and_logged_send_states(
        self, as_of: dt.datetime | None, known: pl.DataFrame | None = None
    ) -> tuple[pl.DataFrame | None, pl.DataFrame]:
        """`client_states(as_of)` (None without `as_of`) and `logged_send_states(known)` from
        one timeline per group of clients."""
        kept = _reusable_states(known)
        self.con.register("known_send_states", kept.select("send_id").to_arrow())
        try:
            queries = [_client_points(as_of)] if as_of is not None else []
            *now, fresh = self._states(*queries, _FRESH_SEND_POINTS)
        finally:
            self.con.unregister("known_send_states")
        fresh = fresh.rename({"point_id": "send_id", "at": "sent_at"})
        labels = self.con.execute(
            "select send_id, hour_of_week, opened_within_7d as opened, "
            "clicked_within_7d as clicked, "
            "count(*) over (partition by date_trunc('week', sent_at), hour_of_week) "
            "/ count(*) over (partition by date_trunc('week', sent_at)) as logging_propensity "
            "from features.feat_email_engagement where label_complete"
        ).pl()
        states = pl.concat([kept, fresh.select(kept.columns)], how="vertical_relaxed")
        sends = (
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
        return (_as_client_states(now[0]) if now else None), sends


def _client_points(as_of: dt.datetime) -> tuple[str, list]:
    return (
        "select client_id as point_id, client_id, ?::timestamp as at from staging.stg_clients",
        [as_of],
    )


# The labelled sends whose states are not carried over (`known_send_states`, registered).
_FRESH_SEND_POINTS = (
    "select send_id as point_id, client_id, sent_at as at "
    "from features.feat_email_engagement where label_complete and send_id not in "
    "(select send_id from known_send_states)",
    [],
)


def _as_client_states(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        "client_id",
        pl.col("at").alias("as_of"),
        "utc_offset_hours",
        *STATE_FEATURES,
    ).sort("client_id")


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
