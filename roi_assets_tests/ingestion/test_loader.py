import datetime as dt
import shutil

import duckdb
import pandas as pd
import pytest

from roi_assets.ingestion import loader
from roi_assets.ingestion.contracts import CONTRACTS
from roi_assets.ingestion.loader import ingest_source

from .daily_exports import (
    export_name,
    landing_hashes,
    write_all_exports,
    write_export,
)

CLIENT_HEADER = (
    "client_id,signup_date,client_type,property_value_bracket,transaction_stage,"
    "geographic_region,timezone,preferred_communication,age_group,client_value_tier,email\n"
)
GOOD_CLIENT = (
    "C1,2024-01-02,buyer,under_250k,searching,west,America/Los_Angeles,email,35-49,standard,a@b.c\n"
)
FIRST_DAY = dt.date(2025, 1, 6)
SECOND_DAY = FIRST_DAY + dt.timedelta(days=1)


@pytest.fixture
def world(tmp_path):
    """Three days of every source's daily export, the last day with a contract-breaking row."""
    landing = tmp_path / "landing"
    for offset in range(3):
        write_all_exports(landing, FIRST_DAY + dt.timedelta(days=offset))
    with (landing / export_name("email_events", FIRST_DAY + dt.timedelta(days=2))).open("a") as f:
        f.write('{"event_id": "e-bad", "event_type": "bounce_unknown"}\n')
    return landing


def _ingest_all(con, landing):
    return {name: ingest_source(con, landing, contract) for name, contract in CONTRACTS.items()}


def _counts(con):
    return {
        name: con.execute(f"select count(*) from raw.{name}").fetchone()[0] for name in CONTRACTS
    } | {"quarantine": con.execute("select count(*) from raw.quarantine").fetchone()[0]}


def _quarantine(con):
    return con.execute(
        "select source_file, row_number, reason from raw.quarantine order by 1, 2"
    ).fetchall()


def test_each_kind_of_bad_row_is_quarantined_with_its_reason(tmp_path):
    (tmp_path / "clients").mkdir()
    profile = "under_250k,searching,west,America/Los_Angeles,email,35-49,standard,"
    (tmp_path / export_name("clients", FIRST_DAY)).write_text(
        CLIENT_HEADER
        + GOOD_CLIENT
        + f",2024-01-02,buyer,{profile}\n"
        + f"C3,yesterday,buyer,{profile}\n"
        + f"C4,2024-01-02,tenant,{profile}\n"
    )
    con = duckdb.connect()
    report = ingest_source(con, tmp_path, CONTRACTS["clients"])
    assert report.rows_loaded == 1 and report.rows_quarantined == 3
    assert [(row, reason) for _, row, reason in _quarantine(con)] == [
        (2, "client_id is required"),
        (3, "signup_date: 'yesterday' is not a valid DATE"),
        (4, "client_type: 'tenant' is not allowed"),
    ]


def test_out_of_range_values_and_unparsable_json_lines_are_rejected(tmp_path):
    events = tmp_path / export_name("email_events", FIRST_DAY)
    events.parent.mkdir()
    events.write_text(
        '{"event_id": "e1", "send_id": "s1", "client_id": "C1", "event_type": "open",'
        ' "occurred_at": "2025-01-06T10:00:00Z"}\n'
        '{"event_id": "e2", "send_id": "s1", "client_id"\n'
    )
    sends = tmp_path / export_name("email_sends", FIRST_DAY)
    sends.parent.mkdir()
    pd.DataFrame(
        {
            "send_id": ["s1"],
            "client_id": ["C1"],
            "campaign_id": ["x"],
            "sent_at": [pd.Timestamp("2025-01-06")],
            "subject_length": [40],
            "personalization_score": [1.7],
            "urgency_indicators": [True],
            "value_proposition_strength": [0.3],
            "call_to_action_count": [1],
            "image_count": [0],
            "subject_line_variant": ["value_focused"],
            "email_template": ["interactive"],
            "cta_style": ["text_link"],
        }
    ).to_parquet(sends)
    con = duckdb.connect()
    ingest_source(con, tmp_path, CONTRACTS["email_events"])
    ingest_source(con, tmp_path, CONTRACTS["email_sends"])
    reasons = [reason for _, _, reason in _quarantine(con)]
    assert (
        "not valid JSON; event_id is required; send_id is required; client_id is required; "
        "event_type is required; occurred_at is required" in reasons
    )
    assert "personalization_score: 1.7 > 1" in reasons


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b" \n", "empty file"),
        (CLIENT_HEADER.encode(), "empty file"),
        (CLIENT_HEADER.encode() + GOOD_CLIENT.encode()[:40], "truncated"),
        (b"client_id,signup_date\nC1,2024-01-01\n", "missing required column(s)"),
        (b"\x00\xff\xfe garbage", "missing required column(s)"),
    ],
    ids=["zero-bytes", "blank", "header-only", "cut-mid-row", "missing-columns", "binary"],
)
def test_a_bad_file_is_quarantined_whole_and_the_next_day_loads(tmp_path, content, reason):
    bad = tmp_path / export_name("clients", FIRST_DAY)
    bad.parent.mkdir()
    bad.write_bytes(content)
    (tmp_path / export_name("clients", SECOND_DAY)).write_text(CLIENT_HEADER + GOOD_CLIENT)
    con = duckdb.connect()
    report = ingest_source(con, tmp_path, CONTRACTS["clients"])
    assert report.rows_loaded == 1
    assert report.files_loaded == [export_name("clients", SECOND_DAY)]
    assert report.files_quarantined[0][0] == export_name("clients", FIRST_DAY)
    assert report.files_quarantined[0][1].startswith(reason)


def test_a_truncated_parquet_file_is_quarantined_as_unreadable(tmp_path):
    whole = write_export(tmp_path / "whole", "user_events", FIRST_DAY, n_rows=50)
    cut = tmp_path / "landing" / export_name("user_events", FIRST_DAY)
    cut.parent.mkdir(parents=True)
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    con = duckdb.connect()
    report = ingest_source(con, tmp_path / "landing", CONTRACTS["user_events"])
    assert report.files_quarantined[0][1].startswith("unreadable parquet")


def test_a_json_lines_file_cut_mid_line_is_quarantined_as_truncated(tmp_path):
    whole = write_export(tmp_path, "email_events", FIRST_DAY)
    whole.write_bytes(whole.read_bytes()[:-20])
    con = duckdb.connect()
    report = ingest_source(con, tmp_path, CONTRACTS["email_events"])
    assert report.rows_loaded == 0
    assert report.files_quarantined[0][1].startswith("truncated")


def test_a_file_without_a_landing_date_in_its_name_is_quarantined_not_ignored(tmp_path):
    (tmp_path / "clients").mkdir()
    (tmp_path / "clients" / "crm_export.csv").write_text(CLIENT_HEADER + GOOD_CLIENT)
    con = duckdb.connect()
    report = ingest_source(con, tmp_path, CONTRACTS["clients"])
    assert report.files_quarantined == [
        ("clients/crm_export.csv", "no landing date in the name (expected clients_YYYY-MM-DD)")
    ]
    assert ingest_source(con, tmp_path, CONTRACTS["clients"]).files_quarantined == []


def test_ingestion_is_idempotent_and_never_touches_landing_files(world):
    before = landing_hashes(world)
    con = duckdb.connect()
    _ingest_all(con, world)
    first = _counts(con)
    reports = _ingest_all(con, world)
    assert _counts(con) == first
    assert all(r.rows_loaded == 0 and r.outcomes == [] for r in reports.values())
    assert first["quarantine"] == 1
    assert landing_hashes(world) == before


def test_a_renamed_copy_of_a_loaded_file_is_quarantined_once_as_its_duplicate(world):
    con = duckdb.connect()
    _ingest_all(con, world)
    first = _counts(con)
    original = world / export_name("email_sends", FIRST_DAY)
    shutil.copy(original, world / export_name("email_sends", FIRST_DAY + dt.timedelta(days=3)))

    report = ingest_source(con, world, CONTRACTS["email_sends"])
    again = ingest_source(con, world, CONTRACTS["email_sends"])

    assert report.rows_loaded == 0
    assert report.files_quarantined == [
        (
            export_name("email_sends", FIRST_DAY + dt.timedelta(days=3)),
            f"duplicate of {export_name('email_sends', FIRST_DAY)}",
        )
    ]
    assert again.outcomes == []
    assert _counts(con) == first | {"quarantine": first["quarantine"] + 1}


def test_a_second_different_file_for_a_day_already_loaded_is_quarantined(tmp_path):
    first = write_export(tmp_path, "clients", FIRST_DAY)
    second = tmp_path / "clients" / "resent" / first.name
    second.parent.mkdir()
    second.write_text(CLIENT_HEADER + GOOD_CLIENT)
    con = duckdb.connect()

    report = ingest_source(con, tmp_path, CONTRACTS["clients"])

    assert report.files_loaded == [export_name("clients", FIRST_DAY)]
    assert report.files_quarantined == [
        (
            "clients/resent/clients_2025-01-06.csv",
            f"a second file for 2025-01-06: {export_name('clients', FIRST_DAY)} is already loaded",
        )
    ]


class _DiesAtThirdLedgerEntry:
    """A connection that is interrupted while recording the third file, mid-transaction."""

    def __init__(self, con):
        self._con = con
        self.ledger_entries = 0

    def execute(self, sql, *args):
        if sql.startswith(f"insert into {loader.LEDGER}"):
            self.ledger_entries += 1
            if self.ledger_entries == 3:
                raise KeyboardInterrupt("killed")
        return self._con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._con, name)


def test_a_run_killed_half_way_is_rerun_without_duplicates(world):
    clean = duckdb.connect()
    _ingest_all(clean, world)
    expected = _counts(clean)

    con = duckdb.connect()
    with pytest.raises(KeyboardInterrupt):
        _ingest_all(_DiesAtThirdLedgerEntry(con), world)
    # the first two files are in, the third rolled back as a whole
    assert con.execute(f"select count(*) from {loader.LEDGER}").fetchone()[0] == 2
    _ingest_all(con, world)
    assert _counts(con) == expected


def test_a_warehouse_from_before_daily_files_is_migrated_and_keeps_its_rows(world):
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute(
        """create table raw.ingested_files (
            source varchar not null, source_file varchar not null,
            file_hash varchar primary key, status varchar not null,
            rows_loaded bigint not null, rows_quarantined bigint not null,
            reason varchar, loaded_at timestamp not null)"""
    )
    con.execute(
        """insert into raw.ingested_files values
            ('market_index', 'market_index/market_index.csv', 'abc', 'loaded', 1, 0, null,
             '2025-01-01 00:00:00')"""
    )
    con.execute(
        """create table raw.market_index (geographic_region varchar, week_start date,
            volatility_index double, _source_file varchar not null, _file_hash varchar not null,
            _row_number bigint not null, _loaded_at timestamp not null)"""
    )
    con.execute(
        """insert into raw.market_index values ('west', '2024-12-30', 0.2,
            'market_index/market_index.csv', 'abc', 1, '2025-01-01 00:00:00')"""
    )

    report = ingest_source(con, world, CONTRACTS["market_index"])

    assert report.rows_loaded == 6
    assert con.execute(
        "select _landing_date, count(*) from raw.market_index group by 1 order by 1 nulls first"
    ).fetchall() == [(None, 1), *[(FIRST_DAY + dt.timedelta(days=i), 2) for i in range(3)]]
    assert con.execute(
        "select source_file, status, landing_date from raw.ingested_files order by 1"
    ).fetchall() == [
        ("market_index/market_index.csv", "loaded", None),
        *[
            (export_name("market_index", day), "loaded", day)
            for day in (FIRST_DAY + dt.timedelta(days=i) for i in range(3))
        ],
    ]
