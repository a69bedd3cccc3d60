"""The three feature tables computed with polars from `raw.*`: the feature-build benchmark's
reference.

It reproduces the dbt project (staging → intermediate → features) column by column as polars lazy
queries over the raw tables exported to Parquet, and writes each feature table to Parquet with
polars' streaming engine, so that `feature_build.py` can time the same work done by a dataframe
engine against DuckDB and check that both give the same tables. Each function mirrors one model
and is named after it, so a step can be read next to the SQL it reproduces.

Intermediate tables that several features read (the staged tables, the client × day spine and its
running totals) are written to Parquet and scanned again, as dbt materialises them: a lazy plan
that inlines them would compute them once per reader.
"""

from __future__ import annotations

import datetime as dt
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

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
    ],
    "subscriptions": ["subscription_id", "client_id", "started_at", "cancelled_at"],
    "market_index": ["geographic_region", "week_start", "volatility_index"],
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
    ],
    "email_events": ["event_id", "send_id", "event_type", "occurred_at"],
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
    ],
}
LINEAGE = ["_landing_date", "_loaded_at", "_row_number"]

CUSTOMIZATION_FEATURES = ("custom_branding", "workflow_automation")
SNAPSHOT_FIRST_DAY = 28
CHURN_WINDOWS = (30, 60, 90)
# int_client_activity_daily's `count(*) filter (where event_type = ...)` columns.
EVENT_COUNTS = {
    "login": "logins",
    "document_view": "document_views",
    "document_upload": "document_uploads",
    "feature_use": "feature_uses",
    "support_ticket": "support_tickets",
    "help_article_view": "help_article_views",
    "feature_request": "feature_requests",
    "nps_response": "nps_responses",
    "feedback_form": "feedback_forms",
    "referral": "referrals",
    "team_invite": "team_invites",
    "integration_connected": "integrations",
    "competitor_email_open": "competitor_email_opens",
    "price_comparison_search": "price_comparison_searches",
}
# int_client_daily_cumulative's running totals (doubles stay doubles, counts are Int64).
SUMMED = [
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
]
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
FEATURE_TABLES = ("feat_client_daily", "feat_client_churn", "feat_email_engagement")


def export_raw_tables(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, Path]:
    """Writes the columns the features read (and the lineage that orders deliveries) of each
    `raw.*` table to `folder/<table>.parquet`: polars' input, as `raw.*` is dbt's."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for table, columns in RAW_COLUMNS.items():
        paths[table] = folder / f"{table}.parquet"
        selected = ", ".join([*columns, *LINEAGE])
        con.execute(
            f"copy (select {selected} from raw.{table}) to '{paths[table]}' (format parquet)"
        )
    return paths


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


def build_features(
    raw: dict[str, Path],
    holidays_csv: Path,
    out: Path,
    stopwatch: Stopwatch | None = None,
    days_until: dt.date | None = None,
) -> dict[str, Path]:
    """feat_client_daily, feat_client_churn and feat_email_engagement as dbt builds them, written
    to `out/<table>.parquet` (intermediate tables under `out/intermediate/`).

    `days_until` is the last day of a windowed dbt build: its client × day spine and its churn
    snapshots' labels stop there, although a day's files hold a few events dated the next day
    (the data's end), whose days only the next day's window builds."""
    watch = stopwatch or Stopwatch()
    work = out / "intermediate"
    work.mkdir(parents=True, exist_ok=True)

    def stored(name: str, frame: pl.LazyFrame) -> pl.LazyFrame:
        path = work / f"{name}.parquet"
        frame.sink_parquet(path, engine="streaming")
        return pl.scan_parquet(path)

    with watch.step("staging"):
        clients = stored("stg_clients", stg_clients(pl.scan_parquet(raw["clients"])))
        subscriptions = stored(
            "stg_subscriptions", stg_subscriptions(pl.scan_parquet(raw["subscriptions"]))
        )
        sends = stored(
            "stg_email_sends", stg_email_sends(pl.scan_parquet(raw["email_sends"]), clients)
        )
        email_events = stg_email_events(pl.scan_parquet(raw["email_events"]))
        user_events = stored(
            "stg_user_events", stg_user_events(pl.scan_parquet(raw["user_events"]))
        )
        market = stg_market_index(pl.scan_parquet(raw["market_index"]))
        world_start, data_end = int_world_calendar(user_events, sends)
        built_until = min(data_end, days_until or data_end)
        outcomes = stored("int_email_outcomes", int_email_outcomes(sends, email_events))
    with watch.step("client_days"):
        spine = stored(
            "int_client_days",
            int_client_days(clients, subscriptions, world_start, built_until),
        )
        activity = stored(
            "int_client_activity_daily", int_client_activity_daily(user_events, outcomes)
        )
    with watch.step("cumulative"):
        cum = stored(
            "int_client_daily_cumulative",
            int_client_daily_cumulative(spine, activity, world_start),
        )
    paths = {table: out / f"{table}.parquet" for table in FEATURE_TABLES}
    with watch.step("client_daily"):
        feat_client_daily(spine, activity).sink_parquet(
            paths["feat_client_daily"], engine="streaming"
        )
    with watch.step("churn"):
        feat_client_churn(
            clients, subscriptions, market, user_events, cum, world_start, built_until
        ).sink_parquet(paths["feat_client_churn"], engine="streaming")
    with watch.step("email_engagement"):
        holidays = pl.scan_csv(holidays_csv, try_parse_dates=True).select(
            pl.col("holiday_date").cast(pl.Date)
        )
        feat_email_engagement(sends, clients, outcomes, cum, holidays, data_end).sink_parquet(
            paths["feat_email_engagement"], engine="streaming"
        )
    return paths


# ---------------------------------------------------------------------------------------------
# staging


def _kept(
    frame: pl.LazyFrame, key: str | list[str], order: list[str], latest: bool
) -> pl.LazyFrame:
    """One row per key: the first (or latest) by `order` (`qualify row_number() over (partition
    by key order by ...) = 1`). The landing date sorts its nulls first: `nulls first` ascending,
    `nulls last` descending, as the models write it."""
    keys = [key] if isinstance(key, str) else key
    ranked = frame.sort(order, nulls_last=False)
    kept = ranked.unique(subset=keys, keep="last" if latest else "first", maintain_order=True)
    return kept.drop([c for c in LINEAGE if c in frame.collect_schema().names()])


def stg_clients(raw: pl.LazyFrame) -> pl.LazyFrame:
    return _kept(raw, "client_id", LINEAGE, latest=True).with_columns(
        segment=pl.col("client_type") + "_" + pl.col("property_value_bracket")
    )


def stg_subscriptions(raw: pl.LazyFrame) -> pl.LazyFrame:
    return _kept(raw, "subscription_id", LINEAGE, latest=True).select(
        "subscription_id",
        "client_id",
        pl.col("started_at").dt.date().alias("started_date"),
        pl.col("cancelled_at").dt.date().alias("cancelled_date"),
    )


def stg_market_index(raw: pl.LazyFrame) -> pl.LazyFrame:
    return _kept(raw, ["geographic_region", "week_start"], LINEAGE, latest=True)


def stg_email_sends(raw: pl.LazyFrame, clients: pl.LazyFrame) -> pl.LazyFrame:
    """First delivery of each send, inner-joined to its client, with the send time in the
    client's local time zone (a conversion per zone: polars converts to one named zone)."""
    sends = _kept(raw, "send_id", LINEAGE, latest=False).join(
        clients.select("client_id", "timezone"), on="client_id", how="inner"
    )
    zones = clients.select(pl.col("timezone").unique()).collect()["timezone"].to_list()
    utc = pl.col("sent_at").dt.replace_time_zone("UTC")
    local = pl.lit(None, dtype=pl.Datetime("us"))
    for zone in zones:
        converted = utc.dt.convert_time_zone(zone).dt.replace_time_zone(None)
        local = pl.when(pl.col("timezone") == zone).then(converted).otherwise(local)
    return sends.with_columns(sent_at_local=local).drop("timezone")


def stg_email_events(raw: pl.LazyFrame) -> pl.LazyFrame:
    return _kept(
        raw, "event_id", ["_landing_date", "occurred_at", "_loaded_at", "_row_number"], False
    )


def stg_user_events(raw: pl.LazyFrame) -> pl.LazyFrame:
    return _kept(raw, "event_id", LINEAGE, latest=False).with_columns(
        activity_date=pl.col("occurred_at").dt.date()
    )


# ---------------------------------------------------------------------------------------------
# intermediate


def int_world_calendar(user_events: pl.LazyFrame, sends: pl.LazyFrame) -> tuple[dt.date, dt.date]:
    days = pl.concat(
        [
            user_events.select(day=pl.col("activity_date")),
            sends.select(day=pl.col("sent_at").dt.date()),
        ]
    )
    found = days.select(start=pl.col("day").min(), end=pl.col("day").max()).collect()
    return found["start"][0], found["end"][0]


def int_email_outcomes(sends: pl.LazyFrame, events: pl.LazyFrame) -> pl.LazyFrame:
    firsts = events.group_by("send_id").agg(
        opened_at=pl.col("occurred_at").filter(pl.col("event_type") == "open").min(),
        clicked_at=pl.col("occurred_at").filter(pl.col("event_type") == "click").min(),
        acted_at=pl.col("occurred_at").filter(pl.col("event_type") == "action").min(),
    )
    return sends.select("send_id", "client_id", "sent_at").join(firsts, on="send_id", how="left")


def int_client_days(
    clients: pl.LazyFrame, subscriptions: pl.LazyFrame, world_start: dt.date, data_end: dt.date
) -> pl.LazyFrame:
    """Each client's days from signup (or the world's start) to the day before cancellation (or
    the data's end)."""
    spans = clients.select("client_id", "signup_date").join(
        subscriptions.select("client_id", "cancelled_date"), on="client_id", how="left"
    )
    first = pl.max_horizontal(pl.col("signup_date"), pl.lit(world_start))
    last = pl.min_horizontal(
        (pl.col("cancelled_date") - pl.duration(days=1)).fill_null(data_end), pl.lit(data_end)
    )
    return (
        spans.select("client_id", activity_date=pl.date_ranges(first, last))
        .explode("activity_date")
        .drop_nulls("activity_date")
    )


def int_client_activity_daily(user_events: pl.LazyFrame, outcomes: pl.LazyFrame) -> pl.LazyFrame:
    """Sparse client × day aggregates: days with a platform event or an email happening only."""
    event = pl.col("event_type")
    counts = [(event == name).sum().alias(column) for name, column in EVENT_COUNTS.items()]
    uses = event == "feature_use"
    user_daily = user_events.group_by("client_id", "activity_date").agg(
        *counts,
        session_minutes=pl.col("duration_minutes").filter(event == "login").sum(),
        upload_mb=pl.col("size_mb").filter(event == "document_upload").sum(),
        distinct_features_used=pl.col("feature_name").filter(uses).drop_nulls().n_unique(),
        customization_uses=(uses & pl.col("feature_name").is_in(CUSTOMIZATION_FEATURES)).sum(),
        support_sentiment_sum=pl.col("sentiment").filter(event == "support_ticket").sum(),
    )
    new_features = (
        user_events.filter(uses)
        .group_by("client_id", "feature_name")
        .agg(activity_date=pl.col("activity_date").min())
        .group_by("client_id", "activity_date")
        .agg(new_features_used=pl.len())
    )

    def on_day(column: str, name: str) -> pl.LazyFrame:
        return (
            outcomes.filter(pl.col(column).is_not_null())
            .group_by("client_id", activity_date=pl.col(column).dt.date())
            .agg(pl.len().alias(name))
        )

    email = (
        pl.concat(
            [
                on_day("sent_at", "emails_received"),
                on_day("opened_at", "emails_opened"),
                on_day("clicked_at", "emails_clicked"),
            ],
            how="diagonal",
        )
        .group_by("client_id", "activity_date")
        .agg(pl.col("emails_received", "emails_opened", "emails_clicked").sum())
    )
    return (
        user_daily.join(email, on=["client_id", "activity_date"], how="full", coalesce=True)
        .join(new_features, on=["client_id", "activity_date"], how="left")
        .fill_null(0)
    )


def int_client_daily_cumulative(
    spine: pl.LazyFrame, activity: pl.LazyFrame, world_start: dt.date
) -> pl.LazyFrame:
    """Running totals per client up to and including each day."""
    x = (pl.col("activity_date") - pl.lit(world_start)).dt.total_days()
    days = (
        spine.join(activity, on=["client_id", "activity_date"], how="left")
        .with_columns(pl.col(SUMMED).fill_null(0))
        .with_columns(
            login_days=(pl.col("logins") > 0).cast(pl.Int64),
            document_view_days=(pl.col("document_views") > 0).cast(pl.Int64),
            days=pl.lit(1, dtype=pl.Int64),
            x=x,
            x2=x * x,
            xy_logins=x * pl.col("logins"),
        )
        .sort("client_id", "activity_date")
    )
    totals = [*SUMMED, "login_days", "document_view_days", "days", "x", "x2", "xy_logins"]
    return days.select(
        "client_id",
        "activity_date",
        *[
            pl.col(c)
            .cast(pl.Float64 if c in ("support_sentiment_sum", "upload_mb") else pl.Int64)
            .cum_sum()
            .over("client_id")
            .alias(f"cum_{c}")
            for c in totals
        ],
    )


# ---------------------------------------------------------------------------------------------
# features


def feat_client_daily(spine: pl.LazyFrame, activity: pl.LazyFrame) -> pl.LazyFrame:
    a = spine.join(activity, on=["client_id", "activity_date"], how="left")
    tickets = pl.col("support_tickets").fill_null(0)
    sentiment = pl.when(tickets != 0).then(pl.col("support_sentiment_sum") / tickets)
    metrics = [
        (sentiment.fill_null(0.0) if m == "support_sentiment" else pl.col(m).fill_null(0))
        .cast(pl.Float64)
        .alias(m)
        for m in DAILY_METRICS
    ]
    return a.select("client_id", "activity_date", *metrics)


def _cum_at(cum: pl.LazyFrame, rows: pl.LazyFrame, day: str, lag: int, columns: list[str]):
    """`left join cum as c<lag> on client_id and activity_date = <day> - lag`: the running totals
    `lag` days before each row's day, suffixed `_<lag>` (0 where the spine has no such day)."""
    wanted = [f"cum_{c}" for c in columns]
    at = cum.select("client_id", "activity_date", *wanted).rename({c: f"{c}_{lag}" for c in wanted})
    return (
        rows.with_columns(_at=pl.col(day) - pl.duration(days=lag))
        .join(at, left_on=["client_id", "_at"], right_on=["client_id", "activity_date"], how="left")
        .drop("_at")
        .with_columns(pl.col(f"{c}_{lag}" for c in wanted).fill_null(0))
    )


def _trailing(column: str, recent: int, older: int) -> pl.Expr:
    """The `trailing` macro: a daily column's sum over (older, recent] days before the cut-off."""
    return pl.col(f"cum_{column}_{recent}") - pl.col(f"cum_{column}_{older}")


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """coalesce(numerator / nullif(denominator, 0), 0)."""
    return pl.when(denominator != 0).then(numerator / denominator).otherwise(0.0)


CHURN_CUM_COLUMNS = {
    1: [
        "logins", "login_days", "days", "x", "x2", "xy_logins", "document_views",
        "emails_received", "emails_opened", "distinct_features_used", "support_tickets",
        "support_sentiment_sum", "feature_requests", "feedback_forms", "help_article_views",
        "competitor_email_opens", "price_comparison_searches", "new_features_used", "upload_mb",
        "team_invites", "integrations", "customization_uses",
    ],
    16: ["document_views"],
    31: [
        "logins", "login_days", "days", "x", "x2", "xy_logins", "document_views",
        "emails_received", "emails_opened", "distinct_features_used", "help_article_views",
        "competitor_email_opens", "price_comparison_searches",
    ],
    61: ["login_days", "distinct_features_used"],
    91: [
        "emails_received", "emails_opened", "support_tickets", "support_sentiment_sum",
        "feature_requests", "feedback_forms",
    ],
}  # fmt: skip


def feat_client_churn(
    clients: pl.LazyFrame,
    subscriptions: pl.LazyFrame,
    market: pl.LazyFrame,
    user_events: pl.LazyFrame,
    cum: pl.LazyFrame,
    world_start: dt.date,
    data_end: dt.date,
) -> pl.LazyFrame:
    """Active clients at each Monday snapshot, features from the days before it, labels NULL
    until their window has been observed."""
    days = pl.date_range(world_start + dt.timedelta(days=SNAPSHOT_FIRST_DAY), data_end, eager=True)
    snapshots = pl.LazyFrame({"snapshot_date": days.filter(days.dt.weekday() == 1)})
    s = pl.col("snapshot_date")

    at_risk = snapshots.join(subscriptions, how="cross").filter(
        (pl.col("started_date") < s - pl.duration(days=28))
        & (
            pl.col("cancelled_date").is_null()
            | (pl.col("cancelled_date") > s - pl.duration(days=28))
        )
    )
    cancelled_since = (pl.col("cancelled_date") > s - pl.duration(days=28)) & (
        pl.col("cancelled_date") < s
    )
    churn_rate = at_risk.group_by("snapshot_date").agg(
        seasonal_churn_probability=cancelled_since.sum() / pl.max_horizontal(pl.len(), 1)
    )
    regions = clients.select("geographic_region").unique()
    market_at = (
        regions.join(snapshots, how="cross")
        .sort("snapshot_date")
        .join_asof(
            market.sort("week_start"),
            left_on="snapshot_date",
            right_on="week_start",
            by="geographic_region",
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,  # sorted just before; polars cannot check by group
        )
    )
    context = market_at.join(churn_rate, on="snapshot_date", how="left").select(
        "geographic_region",
        "snapshot_date",
        market_volatility_index=pl.col("volatility_index").fill_null(0).cast(pl.Float64),
        seasonal_churn_probability=pl.col("seasonal_churn_probability")
        .fill_null(0)
        .cast(pl.Float64),
    )

    active = (
        clients.select(
            "client_id", "geographic_region", "age_group", "client_value_tier", "signup_date"
        )
        .join(subscriptions, on="client_id", how="inner")
        .join(snapshots, how="cross")
        .filter(
            (pl.col("signup_date") <= s)
            & (pl.col("cancelled_date").is_null() | (pl.col("cancelled_date") > s))
        )
    )
    joined = active
    for lag, columns in CHURN_CUM_COLUMNS.items():
        joined = _cum_at(cum, joined, "snapshot_date", lag, columns)

    nps = (
        user_events.filter(pl.col("event_type") == "nps_response")
        .select("client_id", "occurred_at", "nps_score")
        .sort("occurred_at")
    )
    joined = (
        joined.with_columns(_cutoff=s.cast(pl.Datetime("us")))
        .sort("_cutoff")
        .join_asof(
            nps,
            left_on="_cutoff",
            right_on="occurred_at",
            by="client_id",
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,  # sorted just before; polars cannot check by group
        )
        .join(context, on=["geographic_region", "snapshot_date"], how="left")
    )

    def trailing(column: str, recent: int, older: int) -> pl.Expr:
        return _trailing(column, recent, older).cast(pl.Float64)

    n_30, sx_30 = trailing("days", 1, 31), trailing("x", 1, 31)
    sxx_30, sxy_30 = trailing("x2", 1, 31), trailing("xy_logins", 1, 31)
    logins_30 = trailing("logins", 1, 31)
    views_last_15, views_prev_15 = (
        trailing("document_views", 1, 16),
        trailing("document_views", 16, 31),
    )
    login_days_30 = trailing("login_days", 1, 31)
    login_days_prev_30 = trailing("login_days", 31, 61)
    age = (s - pl.col("started_date")).dt.total_days()
    labels = [
        pl.when(s + pl.duration(days=w) <= pl.lit(data_end))
        .then((pl.col("cancelled_date") <= s + pl.duration(days=w)).fill_null(False).cast(pl.Int32))
        .alias(f"churned_within_{w}d")
        for w in CHURN_WINDOWS
    ]
    columns = {
        # activity trends
        "login_frequency_slope_30d": _ratio(
            n_30 * sxy_30 - sx_30 * logins_30, n_30 * sxx_30 - sx_30 * sx_30
        ),
        "document_access_decline_rate": (views_prev_15 - views_last_15)
        / pl.max_horizontal(views_prev_15, 1),
        "email_engagement_momentum": _ratio(
            trailing("emails_opened", 1, 31), trailing("emails_received", 1, 31)
        )
        - _ratio(trailing("emails_opened", 31, 91), trailing("emails_received", 31, 91)),
        "feature_usage_diversity_change": (
            trailing("distinct_features_used", 1, 31) - trailing("distinct_features_used", 31, 61)
        )
        / 30.0,
        "time_between_sessions_increase": 30.0 / pl.max_horizontal(login_days_30, 1)
        - 30.0 / pl.max_horizontal(login_days_prev_30, 1),
        # satisfaction signals
        "support_ticket_sentiment_score": _ratio(
            trailing("support_sentiment_sum", 1, 91), trailing("support_tickets", 1, 91)
        ),
        "feature_request_count": trailing("feature_requests", 1, 91),
        "nps_score_if_available": pl.col("nps_score").fill_null(-1).cast(pl.Float64),
        "feedback_form_completion": trailing("feedback_forms", 1, 91),
        "help_article_access_frequency": trailing("help_article_views", 1, 31),
        # market context
        "competitor_email_opens": trailing("competitor_email_opens", 1, 31),
        "price_comparison_searches": trailing("price_comparison_searches", 1, 31),
        "contract_renewal_proximity": ((365 - age % 365) % 365).cast(pl.Float64),
        "market_volatility_index": pl.col("market_volatility_index"),
        "seasonal_churn_probability": pl.col("seasonal_churn_probability"),
        # engagement depth
        "unique_features_used": pl.col("cum_new_features_used_1").cast(pl.Float64),
        "data_volume_uploaded_gb": pl.col("cum_upload_mb_1") / 1024.0,
        "team_members_invited": pl.col("cum_team_invites_1").cast(pl.Float64),
        "integration_count": pl.col("cum_integrations_1").cast(pl.Float64),
        "customization_level": pl.col("cum_customization_uses_1").cast(pl.Float64),
        # context for fairness reports
        "age_group": pl.col("age_group"),
        "geographic_region": pl.col("geographic_region"),
        "client_value_tier": pl.col("client_value_tier"),
    }
    named = [expr.alias(name) for name, expr in columns.items()]
    return joined.select("client_id", "snapshot_date", *named, *labels)


# feat_email_engagement's columns copied from the send or its client, in the model's order
PASSED_THROUGH = (
    "property_value_bracket", "transaction_stage", "client_type", "geographic_region",
    "preferred_communication", "subject_length", "personalization_score", "urgency_indicators",
    "value_proposition_strength", "call_to_action_count", "image_count",
)  # fmt: skip
EXTRAS = (
    "segment", "subject_line_variant", "email_template", "cta_style", "age_group",
    "client_value_tier",
)  # fmt: skip
ENGAGEMENT_CUM_COLUMNS = {
    1: ["logins", "document_view_days", "new_features_used", "support_tickets", "referrals"],
    29: ["logins"],
    31: ["document_view_days"],
    91: ["support_tickets"],
}


def _email_timeline(outcomes: pl.LazyFrame) -> pl.LazyFrame:
    """Each client's running email history at every moment something happened (the model's
    `timeline`): cumulative sends, opens, clicks, open delays, and the last open and click."""
    no_time = pl.lit(None, dtype=pl.Datetime("us"))
    delay = (pl.col("opened_at").dt.epoch("s") - pl.col("sent_at").dt.epoch("s")) / 3600.0
    happenings = pl.concat(
        [
            outcomes.select(
                "client_id", ts="sent_at", sends=1, opens=0, clicks=0, open_delay_hours=0.0,
                open_at=no_time, click_at=no_time,
            ),
            outcomes.filter(pl.col("opened_at").is_not_null()).select(
                "client_id", ts="opened_at", sends=0, opens=1, clicks=0, open_delay_hours=delay,
                open_at="opened_at", click_at=no_time,
            ),
            outcomes.filter(pl.col("clicked_at").is_not_null()).select(
                "client_id", ts="clicked_at", sends=0, opens=0, clicks=1, open_delay_hours=0.0,
                open_at=no_time, click_at="clicked_at",
            ),
        ]
    )  # fmt: skip
    by_moment = happenings.group_by("client_id", "ts").agg(
        pl.col("sends", "opens", "clicks", "open_delay_hours").sum(),
        pl.col("open_at", "click_at").max(),
    )
    # times only grow along a client's timeline: the last open seen so far is its running max
    return by_moment.sort("client_id", "ts").select(
        "client_id",
        "ts",
        *[
            pl.col(c).cum_sum().over("client_id").alias(f"cum_{c}")
            for c in ("sends", "opens", "clicks", "open_delay_hours")
        ],
        pl.col("open_at").forward_fill().over("client_id").alias("last_open_at"),
        pl.col("click_at").forward_fill().over("client_id").alias("last_click_at"),
    )


def feat_email_engagement(
    sends: pl.LazyFrame,
    clients: pl.LazyFrame,
    outcomes: pl.LazyFrame,
    cum: pl.LazyFrame,
    holidays: pl.LazyFrame,
    data_end: dt.date,
) -> pl.LazyFrame:
    """One row per send, history strictly before the send, labels 7 days ahead."""
    timeline = _email_timeline(outcomes).sort("ts")
    rows = (
        sends.join(clients.drop("timezone"), on="client_id", how="inner")
        .join(
            outcomes.select("send_id", "opened_at", "clicked_at", "acted_at"),
            on="send_id",
            how="left",
        )
        .with_columns(send_day=pl.col("sent_at").dt.date())
    )
    history_columns = {
        0: ["cum_sends", "cum_opens", "cum_clicks", "cum_open_delay_hours", "last_open_at",
            "last_click_at"],
        7: ["cum_sends", "cum_opens"],
        30: ["cum_sends", "cum_opens"],
    }  # fmt: skip
    for days, columns in history_columns.items():
        before = timeline.select("client_id", "ts", *columns).rename(
            {c: f"{c}_{days}" for c in columns}
        )
        rows = (
            rows.with_columns(_cutoff=pl.col("sent_at") - pl.duration(days=days))
            .sort("_cutoff")
            .join_asof(
                before,
                left_on="_cutoff",
                right_on="ts",
                by="client_id",
                strategy="backward",
                allow_exact_matches=False,
                check_sortedness=False,  # sorted just before; polars cannot check by group
            )
            .drop("_cutoff", "ts")
        )
    for lag, columns in ENGAGEMENT_CUM_COLUMNS.items():
        rows = _cum_at(cum, rows, "send_day", lag, columns)

    local = pl.col("sent_at_local")
    dow = local.dt.weekday().cast(pl.Int64) - 1  # weekday() is an Int8: 6 * 24 overflows it
    cum_sends, cum_opens = pl.col("cum_sends_0").fill_null(0), pl.col("cum_opens_0").fill_null(0)
    sends_7, opens_7 = pl.col("cum_sends_7").fill_null(0), pl.col("cum_opens_7").fill_null(0)
    sends_30, opens_30 = pl.col("cum_sends_30").fill_null(0), pl.col("cum_opens_30").fill_null(0)

    def days_since(last: str) -> pl.Expr:
        seconds = pl.col("sent_at").dt.epoch("s") - pl.col(last).dt.epoch("s")
        return pl.min_horizontal((seconds / 86400.0).fill_null(365.0), 365.0)

    week_after = pl.col("sent_at") + pl.duration(days=7)
    holiday_dates = holidays.collect()["holiday_date"].implode()
    columns = {
        "send_id": pl.col("send_id"),
        "client_id": pl.col("client_id"),
        "sent_at": pl.col("sent_at"),
        # temporal (client's local time)
        "hour_of_day": local.dt.hour().cast(pl.Int64),
        "day_of_week": dow.cast(pl.Int64),
        "day_of_month": local.dt.day().cast(pl.Int64),
        "is_weekend": dow >= 5,
        "is_holiday": local.dt.date().is_in(holiday_dates),
        "days_since_last_open": days_since("last_open_at_0"),
        "days_since_last_click": days_since("last_click_at_0"),
        # engagement history
        "lifetime_open_rate": _ratio(cum_opens, cum_sends),
        "recent_open_rate_7d": _ratio(cum_opens - opens_7, cum_sends - sends_7),
        "recent_open_rate_30d": _ratio(cum_opens - opens_30, cum_sends - sends_30),
        "click_through_rate": _ratio(pl.col("cum_clicks_0").fill_null(0), cum_sends),
        "avg_time_to_open_hours": _ratio(pl.col("cum_open_delay_hours_0").fill_null(0), cum_opens),
        "email_frequency_score": pl.min_horizontal((cum_sends - sends_30) / 8.0, 1.0),
        # client context
        "account_age_days": (pl.col("send_day") - pl.col("signup_date"))
        .dt.total_days()
        .cast(pl.Float64),
        **{c: pl.col(c) for c in PASSED_THROUGH},
        # behaviour (whole days before the send's day)
        "login_frequency_weekly": _trailing("logins", 1, 29) / 4.0,
        "document_access_rate": _trailing("document_view_days", 1, 31) / 30.0,
        "feature_adoption_score": pl.col("cum_new_features_used_1") / 12.0,
        "support_ticket_count": _trailing("support_tickets", 1, 91).cast(pl.Int32),
        "referral_generated": pl.col("cum_referrals_1") > 0,
        # extras
        "hour_of_week": dow * 24 + local.dt.hour().cast(pl.Int64),
        **{c: pl.col(c) for c in EXTRAS},
        # labels
        "opened_within_7d": (pl.col("opened_at") < week_after).fill_null(False).cast(pl.Int32),
        "clicked_within_7d": (pl.col("clicked_at") < week_after).fill_null(False).cast(pl.Int32),
        "acted_within_7d": (pl.col("acted_at") < week_after).fill_null(False).cast(pl.Int32),
        "label_complete": week_after <= pl.lit(data_end).cast(pl.Datetime("us")),
    }
    return rows.select(*[expr.alias(name) for name, expr in columns.items()])
