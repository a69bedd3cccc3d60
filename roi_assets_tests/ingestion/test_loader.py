import hashlib
import shutil

import duckdb
import pandas as pd
import pytest

from roi_assets.ingestion import loader
from roi_assets.ingestion.contracts import CONTRACTS
from roi_assets.ingestion.loader import ingest_source
from roi_assets.simulator import simulate_world, world_config

CLIENT_HEADER = (
    "client_id,signup_date,client_type,property_value_bracket,transaction_stage,"
    "geographic_region,timezone,preferred_communication,age_group,client_value_tier,email\n"
)
GOOD_CLIENT = (
    "C1,2024-01-02,buyer,under_250k,searching,west,America/Los_Angeles,email,35-49,standard,a@b.c\n"
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    simulate_world(world_config("tiny", 5), landing)
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
    (tmp_path / "clients" / "crm.csv").write_text(
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
    folder = tmp_path / "email_events"
    folder.mkdir()
    (folder / "hooks.jsonl").write_text(
        '{"event_id": "e1", "send_id": "s1", "client_id": "C1", "event_type": "open",'
        ' "occurred_at": "2025-01-06T10:00:00Z"}\n'
        '{"event_id": "e2", "send_id": "s1", "client_id"\n'
    )
    sends = tmp_path / "email_sends"
    sends.mkdir()
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
    ).to_parquet(sends / "a.parquet")
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
    ("name", "content", "reason"),
    [
        ("empty.csv", b"", "empty file"),
        ("columns.csv", b"client_id,signup_date\nC1,2024-01-01\n", "missing required column(s)"),
        ("binary.csv", b"\x00\xff\xfe garbage", "missing required column(s)"),
    ],
)
def test_a_bad_file_is_quarantined_whole_and_the_run_goes_on(tmp_path, name, content, reason):
    folder = tmp_path / "clients"
    folder.mkdir()
    (folder / name).write_bytes(content)
    (folder / "zz_good.csv").write_text(CLIENT_HEADER + GOOD_CLIENT)
    con = duckdb.connect()
    report = ingest_source(con, tmp_path, CONTRACTS["clients"])
    assert report.rows_loaded == 1
    assert report.files_quarantined[0][0] == f"clients/{name}"
    assert report.files_quarantined[0][1].startswith(reason)


def test_a_truncated_parquet_file_is_quarantined_as_unreadable(world, tmp_path):
    source = next((world / "user_events").rglob("*.parquet"))
    target = tmp_path / "user_events" / "cut.parquet"
    target.parent.mkdir()
    target.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    con = duckdb.connect()
    report = ingest_source(con, tmp_path, CONTRACTS["user_events"])
    assert report.files_quarantined[0][1].startswith("unreadable parquet")


def test_ingestion_is_idempotent_and_never_touches_landing_files(world):
    before = {
        p: hashlib.sha256(p.read_bytes()).hexdigest() for p in world.rglob("*") if p.is_file()
    }
    con = duckdb.connect()
    _ingest_all(con, world)
    first = _counts(con)
    reports = _ingest_all(con, world)
    assert _counts(con) == first
    assert all(r.rows_loaded == 0 and r.files_loaded == [] for r in reports.values())
    assert first["quarantine"] > 0  # the simulator delivers a few bad rows on purpose
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in world.rglob("*") if p.is_file()}
    assert before == after


def test_a_renamed_copy_of_a_loaded_file_is_recognised_by_its_content(world, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(world, landing)
    con = duckdb.connect()
    _ingest_all(con, landing)
    first = _counts(con)
    original = next((landing / "email_sends").rglob("*.parquet"))
    shutil.copy(original, original.with_name("resent.parquet"))
    report = ingest_source(con, landing, CONTRACTS["email_sends"])
    assert report.files_skipped > 0 and report.rows_loaded == 0
    assert _counts(con) == first


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
