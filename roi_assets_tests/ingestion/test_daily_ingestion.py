"""The raw assets, partitioned by day: a backfill equals its days run one by one, bad files are
quarantined with their reason while the day's other files load, and nothing is lost or changed."""

import datetime as dt
import shutil

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from roi_assets.ingestion.assets import raw_assets, raw_checks
from roi_assets.ingestion.contracts import CONTRACTS
from roi_assets.resources.storage import LandingZoneResource

from .daily_exports import (
    SOURCES,
    day_rows,
    export_name,
    landing_hashes,
    write_all_exports,
    write_export,
    write_rows,
)

FIRST = dt.date(2025, 1, 9)  # the backfill's first day
LAST = dt.date(2025, 1, 13)  # no file names this day
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def _day(offset: int) -> dt.date:
    return FIRST + dt.timedelta(days=offset)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _resources(landing, warehouse):
    return {
        "landing_zone": LandingZoneResource(local_dir=str(landing)),
        "duckdb": DuckDBResource(database=str(warehouse)),
    }


def run_day(landing, warehouse, day, assets=raw_assets):
    """One partition, as the daily schedule runs it."""
    result = dg.materialize(
        list(assets),
        partition_key=day.isoformat(),
        resources=_resources(landing, warehouse),
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    return result


def run_range(landing, warehouse, first, last):
    """One run over a range of partitions, as a single-run backfill launches it."""
    result = dg.materialize(
        [*raw_assets, *raw_checks],
        resources=_resources(landing, warehouse),
        instance=dg.DagsterInstance.ephemeral(),
        tags=dict(zip(RANGE_TAGS, (first.isoformat(), last.isoformat()), strict=True)),
    )
    assert result.success
    return result


def _metadata(result, source):
    return {
        key: value.value
        for key, value in result.asset_materializations_for_node(f"raw__{source}")[
            0
        ].metadata.items()
    }


def _ledger(warehouse):
    """Every landing file's verdict: name -> (status, reason)."""
    with duckdb.connect(str(warehouse)) as con:
        rows = con.execute("select source_file, status, reason from raw.ingested_files").fetchall()
    return {name: (status, reason) for name, status, reason in rows}


def _tables(warehouse):
    """Every raw table, the ledger and the quarantine, without their load times."""
    with duckdb.connect(str(warehouse)) as con:
        tables = {
            name: con.execute(
                f"select * exclude (_loaded_at) from raw.{name} order by all"
            ).fetchall()
            for name in CONTRACTS
        }
        tables["ingested_files"] = con.execute(
            "select * exclude (loaded_at) from raw.ingested_files order by all"
        ).fetchall()
        tables["quarantine"] = con.execute(
            "select * exclude (quarantined_at) from raw.quarantine order by all"
        ).fetchall()
    return tables


@pytest.fixture(scope="module")
def messy_landing(tmp_path_factory):
    """Every source's export for the days before and in the backfill, broken the ways real
    exports break; no source has a file for LAST."""
    landing = tmp_path_factory.mktemp("landing")
    for day in _days(_day(-3), _day(3)):
        write_all_exports(landing, day)
    write_export(landing, "email_events", _day(-4))  # 4 days late for the first day

    (landing / export_name("clients", _day(1))).write_bytes(b"")
    header = (landing / export_name("subscriptions", _day(1))).read_text().splitlines()[0]
    (landing / export_name("subscriptions", _day(1))).write_text(header + "\n")
    events = landing / export_name("email_events", _day(1))
    events.write_bytes(events.read_bytes()[:-15])
    sends = landing / export_name("email_sends", _day(2))
    sends.write_bytes(sends.read_bytes()[:200])
    (landing / export_name("market_index", _day(2))).unlink()
    shutil.copy(
        landing / export_name("user_events", _day(2)),
        landing / export_name("user_events", _day(3)),
    )
    (landing / export_name("clients", _day(3))).write_text("client_id,signup_date\nC9,2025-01-12\n")
    rows = day_rows("subscriptions", _day(3), n_rows=3)
    rows[1]["plan"] = "platinum"
    write_rows(landing / export_name("subscriptions", _day(3)), "subscriptions", rows)
    return landing


@pytest.fixture(scope="module")
def landing_before(messy_landing):
    return landing_hashes(messy_landing)


@pytest.fixture(scope="module")
def backfilled(messy_landing, landing_before, tmp_path_factory):
    """The warehouse after one single-run backfill of FIRST..LAST, and that run's result."""
    warehouse = tmp_path_factory.mktemp("backfill") / "warehouse.duckdb"
    return warehouse, run_range(messy_landing, warehouse, FIRST, LAST)


def test_a_backfill_in_one_run_loads_the_same_tables_as_its_days_run_one_by_one(
    messy_landing, backfilled, tmp_path
):
    one_by_one = tmp_path / "warehouse.duckdb"
    for day in _days(FIRST, LAST):
        run_day(messy_landing, one_by_one, day)

    assert _tables(one_by_one) == _tables(backfilled[0])


def test_the_backfill_records_one_materialization_per_day(backfilled):
    _, result = backfilled
    partitions = [m.partition for m in result.asset_materializations_for_node("raw__clients")]
    assert partitions == [day.isoformat() for day in _days(FIRST, LAST)]


BAD_FILES = {
    ("clients", _day(1)): "empty file",
    ("subscriptions", _day(1)): "empty file",
    ("email_events", _day(1)): "truncated: the last row is cut off",
    ("email_sends", _day(2)): "unreadable parquet",
    ("user_events", _day(3)): f"duplicate of {export_name('user_events', _day(2))}",
    ("clients", _day(3)): "missing required column(s): client_type",
    ("email_events", _day(-4)): "arrived 4 days late, beyond the 3-day lookback",
}


@pytest.mark.parametrize(
    ("source", "named_for", "run_for"),
    [
        ("clients", _day(1), _day(1)),
        ("subscriptions", _day(1), _day(1)),
        ("email_events", _day(1), _day(1)),
        ("email_sends", _day(2), _day(2)),
        ("user_events", _day(3), _day(3)),
        ("clients", _day(3), _day(3)),
        ("email_events", _day(-4), FIRST),
    ],
    ids=["empty", "header-only", "cut-mid-row", "broken-parquet", "duplicate", "no-column", "late"],
)
def test_a_bad_file_is_quarantined_with_its_reason_while_the_days_other_files_load(
    backfilled, source, named_for, run_for
):
    ledger = _ledger(backfilled[0])

    status, reason = ledger[export_name(source, named_for)]

    assert status == "quarantined" and reason.startswith(BAD_FILES[source, named_for])
    others = [
        export_name(s, run_for)
        for s in SOURCES
        if (s, run_for) not in BAD_FILES and export_name(s, run_for) in ledger
    ]
    assert len(others) >= 3 and all(ledger[name] == ("loaded", None) for name in others)


def test_a_contract_breaking_row_is_quarantined_and_its_file_loads(backfilled):
    warehouse = backfilled[0]
    with duckdb.connect(str(warehouse)) as con:
        loaded = con.execute(
            "select count(*) from raw.subscriptions where _landing_date = ?", [_day(3)]
        ).fetchone()[0]
        reasons = con.execute(
            "select row_number, reason from raw.quarantine where source_file = ?",
            [export_name("subscriptions", _day(3))],
        ).fetchall()
    assert loaded == 2 and reasons == [(2, "plan: 'platinum' is not allowed")]
    assert _ledger(warehouse)[export_name("subscriptions", _day(3))] == ("loaded", None)


def test_files_late_within_the_lookback_load_and_are_reported_late(backfilled):
    warehouse, result = backfilled
    with duckdb.connect(str(warehouse)) as con:
        days = con.execute("select distinct _landing_date from raw.clients order by 1").fetchall()
    assert [d for (d,) in days] == [_day(-3), _day(-2), _day(-1), _day(0), _day(2)]
    late = _metadata(result, "clients")["late_files"]
    assert f"`{export_name('clients', _day(-3))}`: 3 day(s) late, loaded" in late


def test_the_rows_of_a_file_too_late_to_load_are_kept_in_quarantine(backfilled):
    with duckdb.connect(str(backfilled[0])) as con:
        kept = con.execute(
            "select row_number, record from raw.quarantine where source_file = ? order by 1",
            [export_name("email_events", _day(-4))],
        ).fetchall()
    assert [row for row, _ in kept] == [1, 2]
    assert all('"event_id":"E' in record for _, record in kept)


def test_a_day_without_a_file_succeeds_and_the_metadata_names_it(backfilled):
    _, result = backfilled
    assert _metadata(result, "market_index")["days_without_file"] == f"{_day(2)}, {LAST}"
    assert _metadata(result, "clients")["days_without_file"] == str(LAST)


def test_ingestion_never_changes_a_landing_file(messy_landing, landing_before, backfilled):
    assert landing_hashes(messy_landing) == landing_before


def test_rerunning_a_day_or_the_backfill_adds_nothing(messy_landing, backfilled, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(backfilled[0], warehouse)
    before = _tables(warehouse)

    again = run_day(messy_landing, warehouse, _day(3))
    run_range(messy_landing, warehouse, FIRST, LAST)

    assert _tables(warehouse) == before
    assert _metadata(again, "user_events")["files_quarantined"] == "none"


def test_a_file_arriving_after_its_day_ran_loads_within_the_lookback_and_not_beyond(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    clients = [a for a in raw_assets if a.key.path[-1] == "clients"]
    write_export(landing, "clients", _day(2))
    run_day(landing, warehouse, _day(2), clients)

    write_export(landing, "clients", _day(0))  # 3 days late for the next day's run: loaded
    write_export(landing, "clients", _day(-1))  # 4 days late: quarantined
    result = run_day(landing, warehouse, _day(3), clients)

    assert _ledger(warehouse) == {
        export_name("clients", _day(2)): ("loaded", None),
        export_name("clients", _day(0)): ("loaded", None),
        export_name("clients", _day(-1)): (
            "quarantined",
            "arrived 4 days late, beyond the 3-day lookback",
        ),
    }
    metadata = _metadata(result, "clients")
    assert [metadata[k] for k in ("rows_landed", "rows_loaded", "rows_quarantined")] == [4, 2, 2]
    assert metadata["late_files"].splitlines() == [
        f"- `{export_name('clients', _day(-1))}`: 4 day(s) late, quarantined",
        f"- `{export_name('clients', _day(0))}`: 3 day(s) late, loaded",
    ]
    with duckdb.connect(str(warehouse)) as con:
        named_for = con.execute("select distinct _landing_date from raw.clients order by 1")
        assert named_for.fetchall() == [(_day(0),), (_day(2),)]


def test_a_day_whose_files_are_all_quarantined_does_not_stop_the_next_day(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    write_all_exports(landing, _day(0))
    write_all_exports(landing, _day(1))
    for source in SOURCES:
        (landing / export_name(source, _day(0))).write_bytes(b"")

    run_range(landing, warehouse, _day(0), _day(1))

    ledger = _ledger(warehouse)
    assert {ledger[export_name(s, _day(0))] for s in SOURCES} == {("quarantined", "empty file")}
    assert {ledger[export_name(s, _day(1))] for s in SOURCES} == {("loaded", None)}


def test_the_runs_metadata_counts_the_days_rows_and_the_check_sees_the_day(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    write_export(landing, "clients", _day(0), n_rows=3)
    rows = day_rows("subscriptions", _day(0), n_rows=3)
    rows[0]["monthly_fee"] = "-5"
    write_rows(landing / export_name("subscriptions", _day(0)), "subscriptions", rows)

    result = run_day(landing, warehouse, _day(0), [*raw_assets, *raw_checks])

    subscriptions = _metadata(result, "subscriptions")
    assert (subscriptions["rows_landed"], subscriptions["rows_loaded"]) == (3, 2)
    assert subscriptions["rows_quarantined"] == 1 and subscriptions["dagster/row_count"] == 2
    assert f"| {_day(0)} | yes | 3 | 2 | 1 | 1 | 0 | 0 |" in subscriptions["per_day"]
    checks = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()}
    assert not checks["subscriptions"].passed
    assert checks["subscriptions"].metadata["quarantined_rows"].value == 1
    assert checks["clients"].passed and checks["clients"].metadata["loaded_rows"].value == 3
