"""The three feature tables computed in pandas from `raw.*`: the feature-build benchmark's baseline.

It reproduces the dbt project (staging → intermediate → features) column by column, so that
`feature_build.py` can time the same work done by a dataframe library against DuckDB and check that
both give the same tables. It is vectorised throughout (groupby, cumsum, merge_asof); the
structure follows the SQL models so each step can be read next to the model it mirrors.

Two representation choices keep memory bounded at the `large` scale (tens of millions of
client-days): clients become integer codes and days become integers counted from the world's
first day, and the dense client × day spine (`int_client_days`) is kept sorted by client and day,
so the row of a (client, day) pair is simple arithmetic instead of a merge against the whole spine.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

# Columns of each raw table the feature models read (the rest is lineage).
RAW_COLUMNS = {
    "clients": [
        "client_id",
        "signup_date",
        "client_type",
        "property_value_bracket",
        "transaction_stage",
        "geographic_region",
        "timezone",
        "preferred_communication",
        "age_group",
        "client_value_tier",
        "_loaded_at",
        "_row_number",
    ],
    "subscriptions": [
        "subscription_id",
        "client_id",
        "started_at",
        "cancelled_at",
        "_loaded_at",
        "_row_number",
    ],
    "market_index": ["geographic_region", "week_start", "volatility_index", "_loaded_at"],
    "email_sends": [
        "send_id",
        "client_id",
        "sent_at",
        "subject_length",
        "personalization_score",
        "urgency_indicators",
        "value_proposition_strength",
        "call_to_action_count",
        "image_count",
        "subject_line_variant",
        "email_template",
        "cta_style",
        "_loaded_at",
        "_row_number",
    ],
    "email_events": [
        "event_id",
        "send_id",
        "event_type",
        "occurred_at",
        "_loaded_at",
        "_row_number",
    ],
    "user_events": [
        "event_id",
        "client_id",
        "event_type",
        "occurred_at",
        "feature_name",
        "sentiment",
        "nps_score",
        "size_mb",
        "duration_minutes",
        "_loaded_at",
        "_row_number",
    ],
}

CUSTOMIZATION_FEATURES = ("custom_branding", "workflow_automation")
# A subscription that was never cancelled ends on a day far beyond any world: comparisons then
# read like the SQL's `cancelled_date is null or cancelled_date > x`.
NOT_CANCELLED = 10**9
SNAPSHOT_FIRST_DAY = 28
CHURN_WINDOWS = (30, 60, 90)
DAILY_METRICS = [
    "logins",
    "session_minutes",
    "document_views",
    "document_uploads",
    "feature_uses",
    "distinct_features_used",
    "support_tickets",
    "support_sentiment",
    "help_article_views",
    "feature_requests",
    "emails_received",
    "emails_opened",
    "emails_clicked",
    "competitor_email_opens",
    "price_comparison_searches",
]
# Daily counts by event type (int_client_activity_daily's `count(*) filter (where ...)`).
EVENT_COUNTS = {
    "login": "logins",
    "document_view": "document_views",
    "document_upload": "document_uploads",
    "feature_use": "feature_uses",
    "support_ticket": "support_tickets",
    "help_article_view": "help_article_views",
    "feature_request": "feature_requests",
    "feedback_form": "feedback_forms",
    "referral": "referrals",
    "team_invite": "team_invites",
    "integration_connected": "integrations",
    "competitor_email_open": "competitor_email_opens",
    "price_comparison_search": "price_comparison_searches",
}
# Columns of int_client_daily_cumulative (each as a running total per client).
CUMULATED = [
    "logins",
    "document_views",
    "emails_received",
    "emails_opened",
    "distinct_features_used",
    "new_features_used",
    "support_tickets",
    "support_sentiment_sum",
    "feature_requests",
    "feedback_forms",
    "help_article_views",
    "competitor_email_opens",
    "price_comparison_searches",
    "upload_mb",
    "team_invites",
    "integrations",
    "customization_uses",
    "referrals",
    "login_days",
    "document_view_days",
    "days",
    "x",
    "x2",
    "xy_logins",
]


@dataclass
class RawTables:
    """The raw tables as pandas frames (string columns as Arrow-backed strings)."""

    clients: pd.DataFrame
    subscriptions: pd.DataFrame
    market_index: pd.DataFrame
    email_sends: pd.DataFrame
    email_events: pd.DataFrame
    user_events: pd.DataFrame
    holidays: pd.Series  # the dbt seed reference.us_holidays


def read_raw_tables(con: duckdb.DuckDBPyConnection, holidays_csv: Path) -> RawTables:
    """Reads the columns the features need from `raw.*`, through Arrow (compact strings)."""
    strings = {
        pa.string(): pd.StringDtype("pyarrow"),
        pa.large_string(): pd.StringDtype("pyarrow"),
    }

    def read(table: str) -> pd.DataFrame:
        columns = ", ".join(RAW_COLUMNS[table])
        arrow = con.sql(f"select {columns} from raw.{table}").to_arrow_table()
        return arrow.to_pandas(date_as_object=False, types_mapper=strings.get)

    holidays = pd.read_csv(holidays_csv, parse_dates=["holiday_date"])["holiday_date"]
    return RawTables(**{table: read(table) for table in RAW_COLUMNS}, holidays=holidays)


@dataclass
class FeatureTables:
    feat_client_daily: pd.DataFrame
    feat_client_churn: pd.DataFrame
    feat_email_engagement: pd.DataFrame


@dataclass(frozen=True)
class Spine:
    """The dense client × day rows (int_client_days), sorted by client, then day.

    A client's days are consecutive rows, so the row of (client, day) is `first_row + day -
    first_day`: the lookups of `cum` rows at fixed day offsets that the SQL does with joins become
    array arithmetic.
    """

    client: np.ndarray  # per row: client code
    day: np.ndarray  # per row: day index (0 = the world's first day)
    first_row: np.ndarray  # per client code
    first_day: np.ndarray  # per client code
    last_day: np.ndarray  # per client code (first_day - 1 when the client has no day)

    def __len__(self) -> int:
        return len(self.client)

    def rows(self, client: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Row of each (client, day), -1 where the spine has no such row; codes must be >= 0."""
        offset = day - self.first_day[client]
        inside = (offset >= 0) & (day <= self.last_day[client])
        return np.where(inside, self.first_row[client] + offset, -1)


class Stopwatch:
    """Wall time of each step of the build, and the process's peak memory once it is done (the
    peak never falls, so the step where it jumps is the one that needed the memory)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.peak_rss_gib: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start
        self.peak_rss_gib[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def build_features(raw: RawTables, stopwatch: Stopwatch | None = None) -> FeatureTables:
    """feat_client_daily, feat_client_churn and feat_email_engagement, as dbt builds them."""
    watch = stopwatch or Stopwatch()
    with watch.step("staging"):
        clients = _stage_clients(raw.clients)
        subscriptions = _stage_subscriptions(raw.subscriptions, clients)
        sends = _stage_sends(raw.email_sends, clients)
        events = _stage_user_events(raw.user_events, clients)
        world_start, data_end = _world_calendar(events, sends)
        for frame, column in ((events, "occurred_at"), (sends, "sent_at")):
            frame["day"] = _epoch_day(frame[column]) - world_start
        _add_outcomes(sends, raw.email_events)
    with watch.step("client_days"):
        spine = _client_days(clients, subscriptions, world_start, data_end)
        activity = _activity_on_spine(spine, events, sends, world_start)
    with watch.step("cumulative"):
        cum = _cumulative(spine, activity)
    with watch.step("client_daily"):
        daily = _feat_client_daily(spine, activity, clients, world_start)
        del activity
    with watch.step("churn"):
        churn = _feat_client_churn(
            spine, cum, clients, subscriptions, events, raw.market_index, world_start, data_end
        )
        del events
    with watch.step("email_engagement"):
        behaviour = _email_behaviour(spine, cum, sends)
        del spine, cum
        engagement = _feat_email_engagement(
            clients, sends, behaviour, raw.holidays, world_start, data_end
        )
    return FeatureTables(daily, churn, engagement)


# ---------------------------------------------------------------------------------------------
# staging


def _latest(frame: pd.DataFrame, key: str | list[str], order: list[str]) -> pd.DataFrame:
    """The row with the greatest `order` per key (`qualify row_number() ... desc = 1`)."""
    return _one_per_key(frame, key, order, "last")


def _first(frame: pd.DataFrame, key: str, order: list[str]) -> pd.DataFrame:
    """The row with the smallest `order` per key (`qualify row_number() ... = 1`)."""
    return _one_per_key(frame, key, order, "first")


def _one_per_key(
    frame: pd.DataFrame, key: str | list[str], order: list[str], keep: str
) -> pd.DataFrame:
    """The kept row of each key, without the lineage columns.

    Only the key and order columns are sorted and the kept rows are copied once: at the large
    scale each copy of the events costs more than a gigabyte.
    """
    keys = [key] if isinstance(key, str) else key
    ranked = frame[[*keys, *order]].sort_values(order)
    kept = ranked.index[~ranked.duplicated(keys, keep=keep)]
    columns = [c for c in frame.columns if c not in ("_loaded_at", "_row_number")]
    out = frame.loc[kept, columns]
    out.index = pd.RangeIndex(len(out))
    return out


def _positions(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Position of each value among unique `keys`, -1 when absent (an inner-join lookup)."""
    return pd.Categorical(values, categories=keys).codes.astype(np.int64)


def _epoch_day(values: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 of timestamps or dates (the SQL's cast(... as date))."""
    return values.to_numpy(dtype="datetime64[us]").astype("datetime64[D]").astype(np.int64)


def _epoch_second(values: pd.Series | np.ndarray) -> np.ndarray:
    """Whole seconds since the epoch, as date_diff('second', ...) counts them."""
    return np.asarray(values, dtype="datetime64[us]").astype(np.int64) // 1_000_000


def _stage_clients(raw: pd.DataFrame) -> pd.DataFrame:
    """stg_clients; a client's code is its row number here."""
    clients = _latest(raw, "client_id", ["_loaded_at", "_row_number"])
    clients["segment"] = clients["client_type"] + "_" + clients["property_value_bracket"]
    clients["signup_day"] = _epoch_day(clients["signup_date"])
    return clients


def _stage_subscriptions(raw: pd.DataFrame, clients: pd.DataFrame) -> pd.DataFrame:
    """stg_subscriptions with start and cancellation as epoch days and the client's code."""
    subs = _latest(raw, "subscription_id", ["_loaded_at", "_row_number"])
    cancelled = subs["cancelled_at"].notna().to_numpy()
    out = pd.DataFrame(
        {
            "client": _positions(subs["client_id"], clients["client_id"]),
            "started_day": _epoch_day(subs["started_at"]),
            "cancelled_day": np.where(cancelled, _epoch_day(subs["cancelled_at"]), NOT_CANCELLED),
        }
    )
    known = out["client"] >= 0  # -1: a client the CRM does not know
    if out.loc[known, "client"].duplicated().any():
        # int_client_days and feat_client_churn would repeat such a client's rows; the billing
        # export (and the simulator) hold one subscription per client.
        raise ValueError("a client has more than one subscription; the baseline assumes one")
    return out


def _stage_sends(raw: pd.DataFrame, clients: pd.DataFrame) -> pd.DataFrame:
    """stg_email_sends: first delivery of each send, inner-joined to its client."""
    sends = _first(raw, "send_id", ["_loaded_at", "_row_number"])
    sends["client"] = _positions(sends["client_id"], clients["client_id"])
    sends = sends[sends["client"] >= 0].sort_values("sent_at")
    sends.index = pd.RangeIndex(len(sends))
    return sends


def _stage_user_events(raw: pd.DataFrame, clients: pd.DataFrame) -> pd.DataFrame:
    """stg_user_events with the client's code (-1 for a client the CRM does not know)."""
    events = _first(raw, "event_id", ["_loaded_at", "_row_number"])
    events["client"] = _positions(events["client_id"], clients["client_id"])
    events["event_type"] = events["event_type"].astype("category")
    return events


def _world_calendar(events: pd.DataFrame, sends: pd.DataFrame) -> tuple[int, int]:
    """int_world_calendar as epoch days; data_end is returned as a day index from world_start."""
    days = np.concatenate([_epoch_day(events["occurred_at"]), _epoch_day(sends["sent_at"])])
    world_start = int(days.min())
    return world_start, int(days.max()) - world_start


def _add_outcomes(sends: pd.DataFrame, raw_events: pd.DataFrame) -> None:
    """int_email_outcomes: first open and first click of every send, as columns of `sends`."""
    events = _first(raw_events, "event_id", ["occurred_at", "_loaded_at", "_row_number"])
    events = events.assign(send=_positions(events["send_id"], sends["send_id"]))
    events = events[events["send"] >= 0]
    for event_type, column in (("open", "opened_at"), ("click", "clicked_at")):
        first = events[events["event_type"] == event_type].groupby("send")["occurred_at"].min()
        at = np.full(len(sends), np.datetime64("NaT"), dtype="datetime64[us]")
        at[first.index.to_numpy()] = first.to_numpy()
        sends[column] = at


# ---------------------------------------------------------------------------------------------
# client × day


def _client_days(
    clients: pd.DataFrame, subscriptions: pd.DataFrame, world_start: int, data_end: int
) -> Spine:
    """int_client_days: each client's days from signup (or the world's start) to the day before
    cancellation (or the data's end)."""
    cancelled_day = np.full(len(clients), NOT_CANCELLED)
    known = subscriptions[subscriptions["client"] >= 0]
    cancelled_day[known["client"].to_numpy()] = known["cancelled_day"].to_numpy()
    first_day = np.maximum(clients["signup_day"].to_numpy() - world_start, 0)
    last_day = np.minimum(cancelled_day - world_start - 1, data_end)
    lengths = np.maximum(last_day - first_day + 1, 0)
    last_day = first_day + lengths - 1
    first_row = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    client = np.repeat(np.arange(len(clients)), lengths)
    day = first_day[client] + np.arange(lengths.sum()) - first_row[client]
    return Spine(client, day, first_row, first_day, last_day)


def _on_spine(per_row: pd.Series, n_rows: int, dtype: type) -> np.ndarray:
    """A sparse per-row aggregate as a dense column, zero where the row had nothing (the SQL's
    left join followed by coalesce(..., 0))."""
    dense = np.zeros(n_rows, dtype=dtype)
    dense[per_row.index.to_numpy()] = per_row.to_numpy()
    return dense


def _activity_on_spine(
    spine: Spine, events: pd.DataFrame, sends: pd.DataFrame, world_start: int
) -> dict[str, np.ndarray]:
    """int_client_activity_daily joined onto the spine: every daily aggregate, zero-filled (one
    array per column: a DataFrame would copy them all into one block)."""
    return {**_user_activity(spine, events), **_email_activity(spine, sends, world_start)}


def _user_activity(spine: Spine, events: pd.DataFrame) -> dict[str, np.ndarray]:
    """Platform events per spine row: counts by type, sums, distinct and first-used features."""
    n = len(spine)
    known = (events["client"] >= 0).to_numpy()
    row = np.full(len(events), -1)
    row[known] = spine.rows(events["client"].to_numpy()[known], events["day"].to_numpy()[known])
    inside = row >= 0
    values = ["event_type", "feature_name", "duration_minutes", "size_mb", "sentiment"]
    on_spine = events.loc[inside, values]
    on_spine["row"] = row[inside]
    del row, inside
    columns: dict[str, np.ndarray] = {}

    counts = on_spine.groupby(["row", "event_type"], observed=True).size().unstack(fill_value=0)
    for event_type, name in EVENT_COUNTS.items():
        if event_type in counts.columns:
            columns[name] = _on_spine(counts[event_type], n, np.int32)
        else:
            columns[name] = np.zeros(n, dtype=np.int32)
    del counts

    for name, event_type, value in (
        ("session_minutes", "login", "duration_minutes"),
        ("upload_mb", "document_upload", "size_mb"),
        ("support_sentiment_sum", "support_ticket", "sentiment"),
    ):
        of_type = on_spine[on_spine["event_type"] == event_type]
        columns[name] = _on_spine(of_type.groupby("row")[value].sum(), n, np.float64)

    uses = on_spine[on_spine["event_type"] == "feature_use"]
    distinct = uses.dropna(subset=["feature_name"]).drop_duplicates(["row", "feature_name"])
    columns["distinct_features_used"] = _on_spine(distinct.groupby("row").size(), n, np.int32)
    customizing = uses[uses["feature_name"].isin(CUSTOMIZATION_FEATURES)]
    columns["customization_uses"] = _on_spine(customizing.groupby("row").size(), n, np.int32)
    del on_spine, uses, distinct, customizing

    # The day each feature was first used, over all events (a first use on a day outside the
    # spine, e.g. the cancellation day, counts nowhere, as in the SQL).
    all_uses = events.loc[known & (events["event_type"] == "feature_use").to_numpy()]
    first_use = all_uses.groupby(["client", "feature_name"], dropna=False)["day"].min()
    client = first_use.index.get_level_values("client").to_numpy()
    first_row = spine.rows(client, first_use.to_numpy())
    first_row = pd.Series(first_row[first_row >= 0])
    columns["new_features_used"] = _on_spine(first_row.value_counts(), n, np.int32)
    return columns


def _email_activity(spine: Spine, sends: pd.DataFrame, world_start: int) -> dict[str, np.ndarray]:
    """Emails received on the send's day, opened and clicked on the day of the first open/click."""
    client = sends["client"].to_numpy()
    columns: dict[str, np.ndarray] = {}
    for name, column in (
        ("emails_received", "sent_at"),
        ("emails_opened", "opened_at"),
        ("emails_clicked", "clicked_at"),
    ):
        happened = sends[column].notna().to_numpy()
        day = _epoch_day(sends.loc[happened, column]) - world_start
        rows = spine.rows(client[happened], day)
        columns[name] = _on_spine(pd.Series(rows[rows >= 0]).value_counts(), len(spine), np.int32)
    return columns


def _cumulative(spine: Spine, activity: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """int_client_daily_cumulative: running totals per client up to and including each day.

    The derived daily columns are added to `activity` itself and the totals are kept as arrays,
    one per column: at the large scale every copy of the spine costs gigabytes.
    """
    x = spine.day
    logins = activity["logins"]
    activity["login_days"] = (logins > 0).astype(np.int32)
    activity["document_view_days"] = (activity["document_views"] > 0).astype(np.int32)
    activity["days"] = np.ones(len(spine), dtype=np.int32)
    activity["x"] = x
    activity["x2"] = x * x
    activity["xy_logins"] = x * logins
    by_client = pd.DataFrame(activity, copy=False).groupby(spine.client, sort=False)
    return {column: by_client[column].cumsum().to_numpy() for column in CUMULATED}


def _feat_client_daily(
    spine: Spine, activity: dict[str, np.ndarray], clients: pd.DataFrame, world_start: int
) -> pd.DataFrame:
    """features.feat_client_daily; moves its columns out of `activity` to bound memory."""
    tickets = activity["support_tickets"]
    sentiment = np.divide(
        activity["support_sentiment_sum"], tickets, out=np.zeros(len(spine)), where=tickets > 0
    )
    daily = {
        "client_id": _per_client(clients["client_id"], spine.client),
        "activity_date": (spine.day + world_start).astype("datetime64[D]"),
    }
    for metric in DAILY_METRICS:
        if metric == "support_sentiment":
            daily[metric] = sentiment
        else:
            daily[metric] = activity.pop(metric).astype(np.float64)
    return pd.DataFrame(daily, copy=False)


def _trailing(
    cum: dict[str, np.ndarray], column: str, recent: np.ndarray, older: np.ndarray
) -> np.ndarray:
    """The `trailing` macro: sum of a daily column over (older, recent] from two cum rows."""
    return _cum_at(cum, column, recent) - _cum_at(cum, column, older)


def _cum_at(cum: dict[str, np.ndarray], column: str, rows: np.ndarray) -> np.ndarray:
    """coalesce(c.cum_<column>, 0) for the cum row at each position (-1: no row)."""
    values = cum[column]
    return np.where(rows >= 0, values[np.maximum(rows, 0)], 0)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """coalesce(numerator / nullif(denominator, 0), 0)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator != 0)


def _per_client(values: pd.Series, client: np.ndarray) -> pd.Categorical:
    """A client attribute repeated for each row (a categorical: one string per client)."""
    attribute = values.astype("category")
    return pd.Categorical.from_codes(
        attribute.cat.codes.to_numpy()[client], categories=attribute.cat.categories.astype(str)
    )


# ---------------------------------------------------------------------------------------------
# features.feat_client_churn


def _feat_client_churn(
    spine: Spine,
    cum: dict[str, np.ndarray],
    clients: pd.DataFrame,
    subscriptions: pd.DataFrame,
    events: pd.DataFrame,
    raw_market: pd.DataFrame,
    world_start: int,
    data_end: int,
) -> pd.DataFrame:
    """features.feat_client_churn: active clients at each Monday snapshot, features from the
    days before it, labels NULL until their window has been observed."""
    days = np.arange(SNAPSHOT_FIRST_DAY, data_end + 1)
    snapshots = days[pd.DatetimeIndex((days + world_start).astype("datetime64[D]")).dayofweek == 0]

    # active: clients with a subscription, signed up by the snapshot, not cancelled by it
    subscribed = subscriptions[subscriptions["client"] >= 0]
    client_of = subscribed["client"].to_numpy()
    signup = clients["signup_day"].to_numpy()[client_of] - world_start
    cancelled = subscribed["cancelled_day"].to_numpy() - world_start
    is_active = (signup[None, :] <= snapshots[:, None]) & (cancelled[None, :] > snapshots[:, None])
    snapshot_index, subscription_index = np.nonzero(is_active)  # ordered by snapshot
    del is_active
    s = snapshots[snapshot_index]
    client = client_of[subscription_index]
    started = subscribed["started_day"].to_numpy()[subscription_index] - world_start
    cancelled = cancelled[subscription_index]

    def at(offset: int) -> np.ndarray:
        return spine.rows(client, s - offset)

    c1, c16, c31, c61, c91 = at(1), at(16), at(31), at(61), at(91)

    def trailing(column: str, recent: np.ndarray, older: np.ndarray) -> np.ndarray:
        return _trailing(cum, column, recent, older).astype(np.float64)

    logins_30 = trailing("logins", c1, c31)
    n_30, sx_30 = trailing("days", c1, c31), trailing("x", c1, c31)
    sxx_30, sxy_30 = trailing("x2", c1, c31), trailing("xy_logins", c1, c31)
    views_last_15 = trailing("document_views", c1, c16)
    views_prev_15 = trailing("document_views", c16, c31)
    login_days_30 = trailing("login_days", c1, c31)
    login_days_prev_30 = trailing("login_days", c31, c61)
    tickets_90 = trailing("support_tickets", c1, c91)

    features = {
        "client_id": _per_client(clients["client_id"], client),
        "snapshot_date": (s + world_start).astype("datetime64[D]"),
        # activity trends
        "login_frequency_slope_30d": _ratio(
            n_30 * sxy_30 - sx_30 * logins_30, n_30 * sxx_30 - sx_30 * sx_30
        ),
        "document_access_decline_rate": (views_prev_15 - views_last_15)
        / np.maximum(views_prev_15, 1),
        "email_engagement_momentum": _ratio(
            trailing("emails_opened", c1, c31), trailing("emails_received", c1, c31)
        )
        - _ratio(trailing("emails_opened", c31, c91), trailing("emails_received", c31, c91)),
        "feature_usage_diversity_change": (
            trailing("distinct_features_used", c1, c31)
            - trailing("distinct_features_used", c31, c61)
        )
        / 30.0,
        "time_between_sessions_increase": 30.0 / np.maximum(login_days_30, 1)
        - 30.0 / np.maximum(login_days_prev_30, 1),
        # satisfaction signals
        "support_ticket_sentiment_score": _ratio(
            trailing("support_sentiment_sum", c1, c91), tickets_90
        ),
        "feature_request_count": trailing("feature_requests", c1, c91),
        "nps_score_if_available": _last_nps(events, client, s, world_start),
        "feedback_form_completion": trailing("feedback_forms", c1, c91),
        "help_article_access_frequency": trailing("help_article_views", c1, c31),
        # market context
        "competitor_email_opens": trailing("competitor_email_opens", c1, c31),
        "price_comparison_searches": trailing("price_comparison_searches", c1, c31),
        "contract_renewal_proximity": ((365 - (s - started) % 365) % 365).astype(np.float64),
        "market_volatility_index": _latest_market(raw_market, clients, client, s, world_start),
        "seasonal_churn_probability": _seasonal_churn(subscriptions, snapshots, world_start)[
            snapshot_index
        ],
        # engagement depth
        "unique_features_used": _cum_at(cum, "new_features_used", c1).astype(np.float64),
        "data_volume_uploaded_gb": _cum_at(cum, "upload_mb", c1) / 1024.0,
        "team_members_invited": _cum_at(cum, "team_invites", c1).astype(np.float64),
        "integration_count": _cum_at(cum, "integrations", c1).astype(np.float64),
        "customization_level": _cum_at(cum, "customization_uses", c1).astype(np.float64),
        # context for fairness reports
        "age_group": _per_client(clients["age_group"], client),
        "geographic_region": _per_client(clients["geographic_region"], client),
        "client_value_tier": _per_client(clients["client_value_tier"], client),
    }
    for window in CHURN_WINDOWS:
        observed = s + window <= data_end
        churned = pd.Series(cancelled <= s + window, dtype="Int32")
        features[f"churned_within_{window}d"] = churned.where(observed).array
    return pd.DataFrame(features)


def _last_nps(
    events: pd.DataFrame, client: np.ndarray, snapshot: np.ndarray, world_start: int
) -> np.ndarray:
    """The latest NPS answer strictly before the snapshot (-1 when none): an as-of join."""
    nps = events.loc[
        (events["event_type"] == "nps_response") & (events["client"] >= 0),
        ["client", "occurred_at", "nps_score"],
    ].sort_values("occurred_at")
    cut = pd.DataFrame(
        {
            "client": client,
            "cutoff": (snapshot + world_start).astype("datetime64[D]").astype("datetime64[us]"),
        }
    )
    found = pd.merge_asof(
        cut,
        nps.astype({"occurred_at": "datetime64[us]"}),
        left_on="cutoff",
        right_on="occurred_at",
        by="client",
        allow_exact_matches=False,
    )
    return found["nps_score"].fillna(-1).to_numpy(dtype=np.float64)


def _latest_market(
    raw: pd.DataFrame,
    clients: pd.DataFrame,
    client: np.ndarray,
    snapshot: np.ndarray,
    world_start: int,
) -> np.ndarray:
    """The region's volatility index of the latest week starting before the snapshot (0: none)."""
    market = _latest(raw, ["geographic_region", "week_start"], ["_loaded_at"])
    regions = market["geographic_region"].drop_duplicates()
    market = pd.DataFrame(
        {
            "region": _positions(market["geographic_region"], regions),
            "day": _epoch_day(market["week_start"]) - world_start,
            "volatility_index": market["volatility_index"].to_numpy(),
        }
    ).sort_values("day")
    cut = pd.DataFrame(
        {
            "region": _positions(clients["geographic_region"], regions)[client],
            "day": snapshot,
        }
    )
    found = pd.merge_asof(cut, market, on="day", by="region", allow_exact_matches=False)
    return found["volatility_index"].fillna(0).to_numpy(dtype=np.float64)


def _seasonal_churn(
    subscriptions: pd.DataFrame, snapshots: np.ndarray, world_start: int
) -> np.ndarray:
    """Per snapshot: the share of subscriptions live 28 days earlier that were cancelled since."""
    started = subscriptions["started_day"].to_numpy()[None, :] - world_start
    cancelled = subscriptions["cancelled_day"].to_numpy()[None, :] - world_start
    s = snapshots[:, None]
    at_risk = (started < s - 28) & (cancelled > s - 28)
    churned = at_risk & (cancelled < s)
    return churned.sum(axis=1) / np.maximum(at_risk.sum(axis=1), 1)


# ---------------------------------------------------------------------------------------------
# features.feat_email_engagement


def _email_timeline(sends: pd.DataFrame) -> pd.DataFrame:
    """Each client's running email history at every moment something happened (the SQL's
    `timeline`): cumulative sends, opens, clicks, open delays, and the last open and click."""
    client = sends["client"].to_numpy()
    sent_at = sends["sent_at"].to_numpy(dtype="datetime64[us]")
    no_time = np.full(len(sends), np.datetime64("NaT"), dtype="datetime64[us]")
    opened, clicked = sends["opened_at"].notna().to_numpy(), sends["clicked_at"].notna().to_numpy()
    opened_at = sends["opened_at"].to_numpy(dtype="datetime64[us]")
    clicked_at = sends["clicked_at"].to_numpy(dtype="datetime64[us]")
    delay = (_epoch_second(opened_at[opened]) - _epoch_second(sent_at[opened])) / 3600.0

    def happenings(mask, ts, sends_, opens, clicks, delay_, open_at, click_at) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "client": client[mask],
                "ts": ts[mask],
                "sends": sends_,
                "opens": opens,
                "clicks": clicks,
                "open_delay_hours": delay_,
                "open_at": open_at,
                "click_at": click_at,
            }
        )

    every = np.ones(len(sends), dtype=bool)
    timeline = pd.concat(
        [
            happenings(every, sent_at, 1, 0, 0, 0.0, no_time, no_time),
            happenings(opened, opened_at, 0, 1, 0, delay, opened_at[opened], no_time[opened]),
            happenings(clicked, clicked_at, 0, 0, 1, 0.0, no_time[clicked], clicked_at[clicked]),
        ],
        ignore_index=True,
    )
    timeline = (
        timeline.groupby(["client", "ts"], sort=True)
        .agg(
            sends=("sends", "sum"),
            opens=("opens", "sum"),
            clicks=("clicks", "sum"),
            open_delay_hours=("open_delay_hours", "sum"),
            open_at=("open_at", "max"),
            click_at=("click_at", "max"),
        )
        .reset_index()
    )
    by_client = timeline.groupby("client", sort=False)
    running = by_client[["sends", "opens", "clicks", "open_delay_hours"]].cumsum()
    # a running max of open (click) times is the last one seen so far: times only grow
    last = by_client[["open_at", "click_at"]].ffill()
    history = pd.concat(
        [
            timeline[["client", "ts"]],
            running.add_prefix("cum_"),
            last.rename(columns={"open_at": "last_open_at", "click_at": "last_click_at"}),
        ],
        axis=1,
    )
    return history.sort_values("ts", kind="stable").reset_index(drop=True)


def _history_before(timeline: pd.DataFrame, client: np.ndarray, cutoff: np.ndarray) -> pd.DataFrame:
    """The timeline row of each client as of strictly before each cutoff (an as-of join)."""
    left = pd.DataFrame({"client": client, "cutoff": cutoff})
    return pd.merge_asof(
        left,
        timeline,
        left_on="cutoff",
        right_on="ts",
        by="client",
        allow_exact_matches=False,
    )


def _email_behaviour(
    spine: Spine, cum: dict[str, np.ndarray], sends: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Platform behaviour over whole days before each send's day, from the cumulative rows."""
    client, day = sends["client"].to_numpy(), sends["day"].to_numpy()

    def at(offset: int) -> np.ndarray:
        return spine.rows(client, day - offset)

    c1, c29, c31, c91 = at(1), at(29), at(31), at(91)
    return {
        "login_frequency_weekly": _trailing(cum, "logins", c1, c29) / 4.0,
        "document_access_rate": _trailing(cum, "document_view_days", c1, c31) / 30.0,
        "feature_adoption_score": _cum_at(cum, "new_features_used", c1) / 12.0,
        "support_ticket_count": _trailing(cum, "support_tickets", c1, c91).astype(np.int32),
        "referral_generated": _cum_at(cum, "referrals", c1) > 0,
    }


def _feat_email_engagement(
    clients: pd.DataFrame,
    sends: pd.DataFrame,
    behaviour: dict[str, np.ndarray],
    holidays: pd.Series,
    world_start: int,
    data_end: int,
) -> pd.DataFrame:
    """features.feat_email_engagement: one row per send, history strictly before the send."""
    client = sends["client"].to_numpy()
    sent_at = sends["sent_at"].to_numpy(dtype="datetime64[us]")
    timeline = _email_timeline(sends)
    now = _history_before(timeline, client, sent_at)
    w7 = _history_before(timeline, client, sent_at - np.timedelta64(7, "D"))
    w30 = _history_before(timeline, client, sent_at - np.timedelta64(30, "D"))
    del timeline

    cum_sends = now["cum_sends"].fillna(0).to_numpy()
    cum_opens = now["cum_opens"].fillna(0).to_numpy()
    sends_7, opens_7 = w7["cum_sends"].fillna(0).to_numpy(), w7["cum_opens"].fillna(0).to_numpy()
    sends_30 = w30["cum_sends"].fillna(0).to_numpy()
    opens_30 = w30["cum_opens"].fillna(0).to_numpy()
    del w7, w30

    def days_since(last: pd.Series) -> np.ndarray:
        seconds = _epoch_second(sent_at) - _epoch_second(last.fillna(pd.Timestamp(0)))
        return np.where(last.notna(), np.minimum(seconds / 86400.0, 365.0), 365.0)

    local = _local_time(sends, clients)
    dow = local.dt.dayofweek.to_numpy()
    hour = local.dt.hour.to_numpy()
    day = sends["day"].to_numpy()
    signup_day = clients["signup_day"].to_numpy()[client] - world_start
    week_after = sent_at + np.timedelta64(7, "D")

    features = {
        "send_id": sends["send_id"].array,
        "client_id": _per_client(clients["client_id"], client),
        "sent_at": sent_at,
        # temporal (client's local time)
        "hour_of_day": hour.astype(np.int64),
        "day_of_week": dow.astype(np.int64),
        "day_of_month": local.dt.day.to_numpy().astype(np.int64),
        "is_weekend": dow >= 5,
        "is_holiday": local.dt.normalize().isin(holidays).to_numpy(),
        "days_since_last_open": days_since(now["last_open_at"]),
        "days_since_last_click": days_since(now["last_click_at"]),
        # engagement history
        "lifetime_open_rate": _ratio(cum_opens, cum_sends),
        "recent_open_rate_7d": _ratio(cum_opens - opens_7, cum_sends - sends_7),
        "recent_open_rate_30d": _ratio(cum_opens - opens_30, cum_sends - sends_30),
        "click_through_rate": _ratio(now["cum_clicks"].fillna(0).to_numpy(), cum_sends),
        "avg_time_to_open_hours": _ratio(
            now["cum_open_delay_hours"].fillna(0).to_numpy(), cum_opens
        ),
        "email_frequency_score": np.minimum((cum_sends - sends_30) / 8.0, 1.0),
        # client context
        "account_age_days": (day - signup_day).astype(np.float64),
        "property_value_bracket": _per_client(clients["property_value_bracket"], client),
        "transaction_stage": _per_client(clients["transaction_stage"], client),
        "client_type": _per_client(clients["client_type"], client),
        "geographic_region": _per_client(clients["geographic_region"], client),
        "preferred_communication": _per_client(clients["preferred_communication"], client),
        # content
        "subject_length": sends["subject_length"].to_numpy(),
        "personalization_score": sends["personalization_score"].to_numpy(),
        "urgency_indicators": sends["urgency_indicators"].to_numpy(),
        "value_proposition_strength": sends["value_proposition_strength"].to_numpy(),
        "call_to_action_count": sends["call_to_action_count"].to_numpy(),
        "image_count": sends["image_count"].to_numpy(),
        # behaviour (whole days before the send's day)
        **behaviour,
        # extras
        "hour_of_week": (dow * 24 + hour).astype(np.int64),
        "segment": _per_client(clients["segment"], client),
        "subject_line_variant": sends["subject_line_variant"].array,
        "email_template": sends["email_template"].array,
        "cta_style": sends["cta_style"].array,
        "age_group": _per_client(clients["age_group"], client),
        "client_value_tier": _per_client(clients["client_value_tier"], client),
        # labels
        "opened_within_7d": (sends["opened_at"].to_numpy() < week_after).astype(np.int32),
        "clicked_within_7d": (sends["clicked_at"].to_numpy() < week_after).astype(np.int32),
        "label_complete": week_after
        <= np.datetime64(int(data_end + world_start), "D").astype("datetime64[us]"),
    }
    return pd.DataFrame(features)


def _local_time(sends: pd.DataFrame, clients: pd.DataFrame) -> pd.Series:
    """Send times in the client's local wall-clock time, one vectorised conversion per zone."""
    zone = clients["timezone"].to_numpy()[sends["client"].to_numpy()]
    local = pd.Series(np.empty(len(sends), dtype="datetime64[us]"), index=sends.index)
    for name in pd.unique(zone):
        in_zone = zone == name
        utc = sends.loc[in_zone, "sent_at"].dt.tz_localize("UTC")
        local[in_zone] = utc.dt.tz_convert(str(name)).dt.tz_localize(None).to_numpy()
    return local
