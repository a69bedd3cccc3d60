"""Daily incremental dbt builds: day by day, as one range, as a re-run and as a full refresh, the
models hold the same rows.

The raw tables come from a small landing zone generated here: a few dozen clients over 60 days,
with what makes a live world hard for incremental builds: webhooks that arrive up to three days
late and twice, a whole landing file that arrives two days late, a cancellation dated before the
day it lands, clients that change region or stage, a client whose CRM record lands a day after its
first sends, and a market index revised weeks later. Every double that is summed is a multiple of
1/4, so two builds that add in another order still agree bit for bit, and tables are compared
exactly.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from roi_assets import settings
from roi_assets.features.dbt_args import dbt_args, window_environment

FIRST_DAY = dt.date(2025, 1, 6)  # a Monday: the world's first day
LAST_DAY = FIRST_DAY + dt.timedelta(days=59)
FROM_DAY = LAST_DAY - dt.timedelta(days=5)  # the days built one by one: FROM_DAY .. LAST_DAY
LOOKBACK_DAYS = 3  # the models' default lookback_days
WITHOUT_TESTS = ("--exclude-resource-type", "test")  # builds whose tables are only compared

# The models and the keys their rows are identified by.
MODELS = {
    "staging.stg_clients": ("client_id",),
    "staging.stg_subscriptions": ("subscription_id",),
    "staging.stg_market_index": ("geographic_region", "week_start"),
    "staging.stg_email_sends": ("send_id",),
    "staging.stg_email_events": ("event_id",),
    "staging.stg_user_events": ("event_id",),
    "intermediate.int_world_calendar": ("world_start",),
    "intermediate.int_email_outcomes": ("send_id",),
    "intermediate.int_client_activity_daily": ("client_id", "activity_date"),
    "intermediate.int_client_days": ("client_id", "activity_date"),
    "intermediate.int_client_daily_cumulative": ("client_id", "activity_date"),
    "features.feat_client_daily": ("client_id", "activity_date"),
    "features.feat_client_churn": ("client_id", "snapshot_date"),
    "features.feat_email_engagement": ("send_id",),
}

# Raw tables as ingestion writes them: the contract's columns, then its bookkeeping columns.
RAW_COLUMNS = {
    "clients": "client_id varchar, signup_date date, client_type varchar, "
    "property_value_bracket varchar, transaction_stage varchar, geographic_region varchar, "
    "timezone varchar, preferred_communication varchar, age_group varchar, "
    "client_value_tier varchar, email varchar",
    "subscriptions": "subscription_id varchar, client_id varchar, plan varchar, "
    "monthly_fee double, started_at timestamp, term_months bigint, cancelled_at timestamp",
    "market_index": "geographic_region varchar, week_start date, volatility_index double",
    "email_sends": "send_id varchar, client_id varchar, campaign_id varchar, sent_at timestamp, "
    "subject_length bigint, personalization_score double, urgency_indicators boolean, "
    "value_proposition_strength double, call_to_action_count bigint, image_count bigint, "
    "subject_line_variant varchar, email_template varchar, cta_style varchar",
    "email_events": "event_id varchar, send_id varchar, client_id varchar, event_type varchar, "
    "occurred_at timestamp",
    "user_events": "event_id bigint, client_id varchar, event_type varchar, occurred_at timestamp, "
    "feature_name varchar, sentiment double, nps_score double, size_mb double, "
    "duration_minutes double",
}
BOOKKEEPING = (
    "_source_file varchar, _file_hash varchar, _row_number bigint, _loaded_at timestamp, "
    "_landing_date date"
)
EXTENSIONS = {
    "clients": "csv",
    "subscriptions": "csv",
    "market_index": "csv",
    "email_sends": "parquet",
    "email_events": "jsonl",
    "user_events": "parquet",
}

REGIONS = {
    "northeast": "America/New_York",
    "midwest": "America/Chicago",
    "west": "America/Los_Angeles",
}
FEATURES = ("document_vault", "e_signature", "offer_builder", "custom_branding", "mobile_app")
VARIANTS = (
    ("professional_formal", "friendly_casual", "urgent_action"),
    ("minimal_text", "visual_rich", "data_driven"),
    ("button_prominent", "text_link", "single_focus"),
)


def _day(offset: int) -> dt.date:
    return FIRST_DAY + dt.timedelta(days=offset)


# Scripted events: but for CANCEL_EARLIER, they land in the days built one by one.
REGION_MOVE = ("C000", _day(54), "west")  # client, day its new record lands, new region
STAGE_CHANGES = (("C001", _day(54), "under_contract"), ("C001", _day(57), "closing"))
BACKDATED_CANCEL = ("C002", _day(47), _day(54))  # client, cancellation date, day it lands
CANCEL = ("C003", _day(56))  # cancelled and landed the same day
CANCEL_EARLIER = ("C004", _day(30))  # before the days built one by one
RECORD_LATE = ("C030", _day(55), _day(56))  # new client: signs up (first sends), record lands
LATE_FILE = ("user_events", _day(57), _day(59))  # a day's file, and the day it arrives
MARKET_REVISION = ("northeast", _day(35), _day(55), 2.75)  # week revised, day it lands, value
LATE_OPEN_CLIENT = "C031"  # signs up before the window, a scripted email history
LATE_OPEN_SEND = (_day(50), 10)  # the send: day, hour (UTC)
LATE_OPEN_AT = (_day(57), 9)  # its only open, 6 days 23 hours later, lands two days later
LATE_OPEN_NEXT_SEND = (_day(58), 10)  # the client's next send, after the open


@dataclass(frozen=True)
class RawRow:
    table: str
    values: tuple
    landing_date: dt.date  # the day the row's file is named for
    arrives_on: dt.date  # the day that file is ingested (later than landing_date for a late file)


class LandingZone:
    """Deterministic daily landing files, as rows; `arrives_on` orders their ingestion."""

    def __init__(self, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        self.rows: list[RawRow] = []
        self.next_user_event = 1
        self._clients()
        self._market()
        self._activity()

    def add(self, table: str, values: tuple, landing: dt.date, arrives: dt.date | None = None):
        if arrives is None:
            arrives = LATE_FILE[2] if (table, landing) == LATE_FILE[:2] else landing
        if landing <= LAST_DAY and arrives <= LAST_DAY:
            self.rows.append(RawRow(table, values, landing, arrives))

    def _client_row(self, client: dict) -> tuple:
        return (
            client["id"],
            client["signup"],
            client["type"],
            client["bracket"],
            client["stage"],
            client["region"],
            REGIONS[client["region"]],
            "email",
            client["age"],
            client["tier"],
            f"{client['id'].lower()}@example.com",
        )

    def _clients(self) -> None:
        rng = self.rng
        self.clients: list[dict] = []
        for n in range(32):
            # 24 clients from before the world began, then one new client every 4 days
            signup = _day(-rng.randint(30, 400)) if n < 24 else _day(2 + 4 * (n - 24))
            if n == 30:
                signup = RECORD_LATE[1]
            if n == 31:
                signup = _day(40)
            client = {
                "id": f"C{n:03d}",
                "signup": signup,
                "type": rng.choice(("buyer", "seller", "both")),
                "bracket": rng.choice(("under_250k", "250k_500k", "500k_1m")),
                "stage": rng.choice(("prospecting", "searching")),
                "region": rng.choice(tuple(REGIONS)),
                "age": rng.choice(("18-34", "35-49", "50-64", "65+")),
                "tier": rng.choice(("standard", "premium")),
                "cancelled": None,
                "active_until": LAST_DAY,
            }
            self.clients.append(client)
        cancellations = {
            BACKDATED_CANCEL[0]: (BACKDATED_CANCEL[1], BACKDATED_CANCEL[2]),
            CANCEL[0]: (CANCEL[1], CANCEL[1]),
            CANCEL_EARLIER[0]: (CANCEL_EARLIER[1], CANCEL_EARLIER[1]),
        }
        for client in self.clients:
            first_landing = max(client["signup"], FIRST_DAY)
            if client["id"] == RECORD_LATE[0]:
                first_landing = RECORD_LATE[2]
            self.add("clients", self._client_row(client), first_landing)
            subscription = [
                f"S{client['id'][1:]}",
                client["id"],
                "pro",
                49.5,
                dt.datetime.combine(client["signup"], dt.time()),
                12,
                None,
            ]
            self.add("subscriptions", tuple(subscription), first_landing)
            if client["id"] in cancellations:
                cancelled, landing = cancellations[client["id"]]
                client["cancelled"] = cancelled
                client["active_until"] = landing  # activity stops once the cancellation lands
                subscription[6] = dt.datetime.combine(cancelled, dt.time())
                self.add("subscriptions", tuple(subscription), landing)
            for change_client, landing, field, value in (
                (REGION_MOVE[0], REGION_MOVE[1], "region", REGION_MOVE[2]),
                *((c, day, "stage", stage) for c, day, stage in STAGE_CHANGES),
                ("C005", _day(20), "stage", "under_contract"),
            ):
                if client["id"] == change_client:
                    client[field] = value
                    self.add("clients", self._client_row(client), landing)

    def _market(self) -> None:
        for week in range(0, 60, 7):
            week_start = _day(week)
            for region in REGIONS:
                value = self.rng.randint(0, 40) / 8
                row = (region, week_start, value)
                # the feed repeats the week's rows the next day
                self.add("market_index", row, week_start)
                self.add("market_index", row, week_start + dt.timedelta(days=1))
        region, week_start, landing, value = MARKET_REVISION
        self.add("market_index", (region, week_start, value), landing)

    def _activity(self) -> None:
        for offset in range(60):
            day = _day(offset)
            for n, client in enumerate(self.clients):
                if not (max(client["signup"], FIRST_DAY) <= day <= client["active_until"]):
                    continue
                self._user_events(client, day)
                if client["id"] == LATE_OPEN_CLIENT:
                    continue
                if (offset + n) % 3 == 0:
                    self._send(client, day, hour=8 + (offset * 7 + n) % 12)
        self._late_open_history()

    def _user_events(self, client: dict, day: dt.date) -> None:
        rng = self.rng
        events: list[tuple] = []

        def event(kind: str, feature=None, sentiment=None, nps=None, size=None, minutes=None):
            at = dt.datetime.combine(day, dt.time(rng.randint(6, 22), rng.choice((0, 15, 30, 45))))
            events.append((kind, at, feature, sentiment, nps, size, minutes))

        if rng.random() < 0.7:
            event("login", minutes=rng.randint(2, 60) / 2)
        for _ in range(rng.randint(0, 3)):
            event("document_view")
        if rng.random() < 0.2:
            event("document_upload", size=rng.randint(1, 40) / 4)
        if rng.random() < 0.3:
            event("feature_use", feature=rng.choice(FEATURES))
        for kind, probability in (
            ("help_article_view", 0.1),
            ("feature_request", 0.04),
            ("feedback_form", 0.04),
            ("referral", 0.02),
            ("team_invite", 0.03),
            ("integration_connected", 0.03),
            ("competitor_email_open", 0.06),
            ("price_comparison_search", 0.06),
        ):
            if rng.random() < probability:
                event(kind)
        if rng.random() < 0.06:
            event("support_ticket", sentiment=rng.choice((-1.0, -0.5, 0.0, 0.5, 1.0)))
        if rng.random() < 0.04:
            event("nps_response", nps=float(rng.randint(0, 10)))
        for kind, at, feature, sentiment, nps, size, minutes in events:
            values = (
                self.next_user_event,
                client["id"],
                kind,
                at,
                feature,
                sentiment,
                nps,
                size,
                minutes,
            )
            self.next_user_event += 1
            self.add("user_events", values, day)

    def _send(self, client: dict, day: dt.date, hour: int, opens: bool | None = None) -> str:
        rng = self.rng
        send_id = f"E{client['id'][1:]}-{day:%m%d}"
        sent_at = dt.datetime.combine(day, dt.time(hour))
        values = (
            send_id,
            client["id"],
            f"K{day:%m%d}",
            sent_at,
            rng.randint(20, 80),
            rng.randint(0, 20) / 20,
            rng.random() < 0.3,
            rng.randint(0, 20) / 20,
            rng.randint(1, 3),
            rng.randint(0, 4),
            *(rng.choice(options) for options in VARIANTS),
        )
        self.add("email_sends", values, day)
        if opens is None and rng.random() < 0.45:
            # opens and clicks on the quarter hour; webhooks land 0-3 days late, some twice
            opened_at = sent_at + dt.timedelta(minutes=15 * rng.randint(2, 320))
            self._webhook(f"{send_id}-open", send_id, client["id"], "open", opened_at)
            if rng.random() < 0.4:
                clicked_at = opened_at + dt.timedelta(minutes=15 * rng.randint(1, 20))
                self._webhook(f"{send_id}-click", send_id, client["id"], "click", clicked_at)
        return send_id

    def _webhook(self, event_id: str, send_id: str, client_id: str, kind: str, at: dt.datetime):
        rng = self.rng
        landing = at.date() + dt.timedelta(days=rng.choice((0, 0, 1, 2, 3)))
        self.add("email_events", (event_id, send_id, client_id, kind, at), landing)
        if rng.random() < 0.15:
            again = landing + dt.timedelta(days=rng.randint(0, 2))
            self.add("email_events", (event_id, send_id, client_id, kind, at), again)

    def _late_open_history(self) -> None:
        client = next(c for c in self.clients if c["id"] == LATE_OPEN_CLIENT)
        for offset in range(40, 50, 3):  # earlier sends, never opened
            self._send(client, _day(offset), hour=11, opens=False)
        day, hour = LATE_OPEN_SEND
        send_id = self._send(client, day, hour, opens=False)
        opened_at = dt.datetime.combine(LATE_OPEN_AT[0], dt.time(LATE_OPEN_AT[1]))
        landing = LATE_OPEN_AT[0] + dt.timedelta(days=2)
        self.add(
            "email_events", (f"{send_id}-open", send_id, client["id"], "open", opened_at), landing
        )
        self._send(client, LATE_OPEN_NEXT_SEND[0], LATE_OPEN_NEXT_SEND[1], opens=False)

    def write(self, path: Path) -> None:
        """The rows as landing tables (`landing.<table>` with `_arrives_on`) in a DuckDB file."""
        with duckdb.connect(str(path)) as con:
            con.execute("create schema landing")
            for table, columns in RAW_COLUMNS.items():
                con.execute(
                    f"create table landing.{table} ({columns}, {BOOKKEEPING}, _arrives_on date)"
                )
                rows = [r for r in self.rows if r.table == table]
                files: dict[tuple[dt.date, dt.date], int] = {}
                records = []
                for row in rows:
                    key = (row.landing_date, row.arrives_on)
                    files[key] = files.get(key, 0) + 1
                    name = f"{table}/{table}_{row.landing_date}.{EXTENSIONS[table]}"
                    loaded_at = dt.datetime.combine(row.arrives_on, dt.time(5, 30))
                    bookkeeping = (name, f"sha-{name}", files[key], loaded_at, row.landing_date)
                    records.append((*row.values, *bookkeeping, row.arrives_on))
                # one statement, a list per column: far quicker than a statement per row
                columns = [list(column) for column in zip(*records, strict=True)]
                unnested = ", ".join(f"unnest(${i + 1})" for i in range(len(columns)))
                con.execute(f"insert into landing.{table} select {unnested}", columns)


class Dbt:
    """dbt in this process, parsed once: every warehouse is a `warehouse.duckdb` (dbt names the
    database after the file), so the parsed project fits them all."""

    def __init__(self, work_dir: Path) -> None:
        self.common = [
            "--project-dir",
            str(settings.DBT_PROJECT_DIR),
            "--profiles-dir",
            str(settings.DBT_PROJECT_DIR),
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
            "--quiet",
            "--no-write-json",
        ]
        with _warehouse_env(work_dir / "parse" / "warehouse.duckdb"):
            parsed = dbtRunner().invoke(["parse", *self.common])
        assert parsed.success, parsed.exception
        self.manifest = parsed.result

    def __call__(
        self,
        warehouse: Path,
        command: str,
        days: tuple[dt.date, dt.date] | None = None,
        *options: str,
    ) -> None:
        with _warehouse_env(warehouse), _environment(window_environment(days)):
            try:
                result = dbtRunner(manifest=self.manifest).invoke(
                    [*dbt_args(command), *options, *self.common]
                )
            finally:
                _close_dbt_database()
        failures = [
            f"{r.node.name}: {r.status} {r.message}"
            for r in (result.result or [])
            if str(r.status) not in ("success", "pass")
        ]
        assert result.success, failures or result.exception


def _close_dbt_database() -> None:
    """dbt-duckdb keeps the database open after a run in this process (its keep_open setting);
    closing it checkpoints the file, which can then be copied and opened on its own."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    if DuckDBConnectionManager._ENV is not None:
        DuckDBConnectionManager.env().close()
    DuckDBConnectionManager.close_all_connections()


@contextmanager
def _warehouse_env(path: Path) -> Iterator[None]:
    with _environment({settings.ENV_WAREHOUSE_PATH: str(path)}):
        yield


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _ingest(warehouse: Path, landing: Path, arrives: str, *params: dt.date) -> None:
    """Load the landing rows whose files arrive as `arrives` says (a SQL condition on
    _arrives_on) into raw.*, as ingestion would."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"attach '{landing}' as zone (read_only)")
        con.execute("create schema if not exists raw")
        for table, columns in RAW_COLUMNS.items():
            con.execute(f"create table if not exists raw.{table} ({columns}, {BOOKKEEPING})")
            con.execute(
                f"insert into raw.{table} select * exclude (_arrives_on) "
                f"from zone.landing.{table} where {arrives}",
                list(params),
            )


def _warehouse(directory: Path) -> Path:
    directory.mkdir(parents=True)
    return directory / "warehouse.duckdb"


def _copy(warehouse: Path, directory: Path) -> Path:
    copy = _warehouse(directory)
    shutil.copy(warehouse, copy)
    return copy


def _next(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=1)


@dataclass
class Builds:
    dbt: Dbt
    landing: Path
    before: Path  # the files that arrived before FROM_DAY, built whole
    day_by_day: Path  # `before`, then one incremental build per day
    after_day: dict[dt.date, Path]  # a copy of day_by_day after each day's build
    full_refresh: Path  # everything built whole at once


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    work = tmp_path_factory.mktemp("incremental")
    landing = work / "landing_zone.duckdb"
    LandingZone().write(landing)
    dbt = Dbt(work)

    full = _warehouse(work / "full")
    _ingest(full, landing, "true")
    dbt(full, "build", None, *WITHOUT_TESTS)

    before = _warehouse(work / "before")
    _ingest(before, landing, "_arrives_on < ?", FROM_DAY)
    dbt(before, "build", None, *WITHOUT_TESTS)
    warehouse = _copy(before, work / "day_by_day")
    after_day = {}
    day = FROM_DAY
    while day <= LAST_DAY:
        _ingest(warehouse, landing, "_arrives_on = ?", day)
        # the last day runs dbt's data tests too, on the incrementally built tables
        dbt(warehouse, "build" if day == LAST_DAY else "run", (day, _next(day)))
        after_day[day] = _copy(warehouse, work / f"after_{day}")
        day = _next(day)
    return Builds(dbt, landing, before, warehouse, after_day, full)


@dataclass(frozen=True)
class Table:
    rows: int
    duplicate_keys: int
    checksum: int  # sum of the row hashes: equal tables have equal checksums


def _tables(warehouse: Path) -> dict[str, Table]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            model: Table(
                *con.execute(
                    f"select count(*), count(*) - count(distinct ({', '.join(keys)})), "
                    f"coalesce(sum(hash(row_values)), 0) from {model} as row_values"
                ).fetchone()
            )
            for model, keys in MODELS.items()
        }


def _differing_keys(left: Path, right: Path) -> dict[str, int]:
    """Per model, how many keys are missing on one side or carry another row on the other."""
    with duckdb.connect() as con:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        differing = {}
        for model, keys in MODELS.items():
            rows = f"select {', '.join(keys)}, hash(v) as row_hash from {{}}.{model} as v"
            count = con.execute(
                f"select count(*) from ({rows.format('l')}) as a "
                f"full join ({rows.format('r')}) as b using ({', '.join(keys)}) "
                "where a.row_hash is distinct from b.row_hash"
            ).fetchone()[0]
            if count:
                differing[model] = count
        return differing


def _assert_same_tables(actual: Path, expected: Path) -> None:
    actual_tables, expected_tables = _tables(actual), _tables(expected)
    assert all(t.rows > 0 for t in expected_tables.values()), expected_tables
    assert {m: t.duplicate_keys for m, t in actual_tables.items() if t.duplicate_keys} == {}
    assert _differing_keys(actual, expected) == {}
    assert actual_tables == expected_tables


def test_building_day_by_day_gives_the_tables_of_a_full_refresh(builds: Builds):
    _assert_same_tables(builds.day_by_day, builds.full_refresh)


def test_one_build_over_the_range_gives_the_tables_of_day_by_day_builds(
    builds: Builds, tmp_path: Path
):
    warehouse = _copy(builds.before, tmp_path / "range")
    _ingest(warehouse, builds.landing, "_arrives_on >= ?", FROM_DAY)
    builds.dbt(warehouse, "run", (FROM_DAY, _next(LAST_DAY)))
    _assert_same_tables(warehouse, builds.day_by_day)
    _assert_same_tables(warehouse, builds.full_refresh)


@pytest.mark.parametrize("day", [LAST_DAY, FROM_DAY], ids=["latest day", "an earlier day"])
def test_rebuilding_a_day_changes_nothing(builds: Builds, tmp_path: Path, day: dt.date):
    warehouse = _copy(builds.day_by_day, tmp_path / "rerun")
    builds.dbt(warehouse, "run", (day, _next(day)))
    _assert_same_tables(warehouse, builds.day_by_day)


def test_a_build_without_days_rebuilds_every_row(builds: Builds, tmp_path: Path):
    warehouse = _copy(builds.day_by_day, tmp_path / "whole")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update features.feat_client_daily set logins = -1")
        con.execute("delete from staging.stg_user_events where activity_date < ?", [FROM_DAY])
    builds.dbt(warehouse, "run")
    _assert_same_tables(warehouse, builds.full_refresh)


def test_a_null_feature_fails_its_tables_check_which_names_the_column(
    builds: Builds, tmp_path: Path
):
    warehouse = _copy(builds.day_by_day, tmp_path / "null_feature")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update features.feat_client_daily set session_minutes = null where logins > 0")
        nulls = con.execute(
            "select count(*) from features.feat_client_daily where session_minutes is null"
        ).fetchone()[0]
    check = "feat_client_daily_features_not_null"

    with pytest.raises(AssertionError, match=f"{check}: fail Got 1 result"):
        builds.dbt(warehouse, "test", None, "--select", check, "--store-failures")
    with duckdb.connect(str(warehouse)) as con:
        failing = con.execute(f"select column_name, null_rows from dbt_test__audit.{check}")
        assert failing.fetchall() == [("session_minutes", nulls)]


def test_the_models_pass_their_dbt_unit_tests(builds: Builds, tmp_path: Path):
    """dbt's unit tests (models/*/schema.yml) check the SQL on fixed rows, such as local send
    times across time zone offset changes; the product's builds leave them out."""
    builds.dbt(_copy(builds.before, tmp_path / "unit"), "test", None, "--select", "test_type:unit")


def test_a_day_leaves_the_rows_it_cannot_change_untouched(builds: Builds, tmp_path: Path):
    """Old rows are not rewritten: marks put on them before the day's build are still there."""
    day = LAST_DAY
    warehouse = _copy(builds.after_day[day - dt.timedelta(days=1)], tmp_path / "marked")
    _ingest(warehouse, builds.landing, "_arrives_on = ?", day)
    old = day - dt.timedelta(days=2 * LOOKBACK_DAYS + 1)  # before anything the day rebuilds
    # (model, mark, rows marked): rows of old days, of clients whose records did not land lately
    marks = [
        ("staging.stg_user_events", "loaded_at = timestamp '1999-01-01'", "activity_date < $old"),
        ("features.feat_client_daily", "logins = -1", "activity_date < $old"),
        (
            "features.feat_email_engagement",
            "image_count = -1",
            "sent_at < $old - interval 10 day and label_complete",
        ),
        (
            "features.feat_client_churn",
            "feature_request_count = -1",
            "snapshot_date < $old and snapshot_date + 30 > $day",  # no label completes on the day
        ),
    ]
    recent = f"_landing_date > $day - {LOOKBACK_DAYS + 1}"
    unchanged_client = f"""client_id not in (
        select client_id from raw.clients where {recent}
        union select client_id from raw.subscriptions where {recent})"""
    marked = {}
    with duckdb.connect(str(warehouse)) as con:
        for model, mark, where in marks:
            if model.startswith("features."):
                where = f"{where} and {unchanged_client}"
            params = {
                name: value for name, value in (("old", old), ("day", day)) if f"${name}" in where
            }
            con.execute(f"update {model} set {mark} where {where}", params)
            marked[model] = con.execute(f"select count(*) from {model} where {mark}").fetchone()[0]
    assert all(marked.values()), marked
    builds.dbt(warehouse, "run", (day, _next(day)))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        kept = {
            model: con.execute(f"select count(*) from {model} where {mark}").fetchone()[0]
            for model, mark, _ in marks
        }
    assert kept == marked


def _send_row(warehouse: Path, send_id: str) -> tuple:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select f.opened_within_7d, f.lifetime_open_rate, f.days_since_last_open, "
            "o.opened_at from features.feat_email_engagement as f "
            "join intermediate.int_email_outcomes as o using (send_id) where send_id = ?",
            [send_id],
        ).fetchone()


def _emails_opened(warehouse: Path, client_id: str, day: dt.date) -> float:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select emails_opened from features.feat_client_daily "
            "where client_id = ? and activity_date = ?",
            [client_id, day],
        ).fetchone()[0]


def test_a_late_open_reaches_labels_and_features_when_its_file_lands(builds: Builds):
    send_id = f"E{LATE_OPEN_CLIENT[1:]}-{LATE_OPEN_SEND[0]:%m%d}"
    next_send_id = f"E{LATE_OPEN_CLIENT[1:]}-{LATE_OPEN_NEXT_SEND[0]:%m%d}"
    opened_on, lands_on = LATE_OPEN_AT[0], LATE_OPEN_AT[0] + dt.timedelta(days=2)
    before, after = builds.after_day[lands_on - dt.timedelta(days=1)], builds.after_day[lands_on]

    # the day after the open, its webhook has not landed: nothing knows of it
    assert _send_row(before, send_id) == (0, 0.0, 365.0, None)
    assert _send_row(before, next_send_id)[:3] == (0, 0.0, 365.0)
    assert _emails_opened(before, LATE_OPEN_CLIENT, opened_on) == 0
    # once it lands, the send's label, the open's day and the next send's history see it
    opened_at = dt.datetime.combine(opened_on, dt.time(LATE_OPEN_AT[1]))
    assert _send_row(after, send_id)[0] == 1 and _send_row(after, send_id)[3] == opened_at
    next_send = _send_row(after, next_send_id)
    assert next_send[0] == 0 and next_send[1] > 0 and next_send[2] == pytest.approx(1 + 1 / 24)
    assert _emails_opened(after, LATE_OPEN_CLIENT, opened_on) == 1
