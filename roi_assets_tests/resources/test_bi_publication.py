import duckdb

from roi_assets.resources.bi_publication import partial_path, publish_bi_copy
from roi_assets.resources.table_contracts import CONTRACTS


def _warehouse(tmp_path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    for schema in ("features", "marts", "truth"):
        con.execute(f"create schema {schema}")
        con.execute(f"create table {schema}.t as select 1 as x")
    return con


def test_bi_copy_holds_the_bi_schemas_only_and_replaces_the_previous_copy(tmp_path):
    target = tmp_path / "bi.duckdb"
    con = _warehouse(tmp_path)
    counts = publish_bi_copy(con, target)
    assert {k: v for k, v in counts.items() if v} == {"features.t": 1, "marts.t": 1}
    con.execute("insert into marts.t values (2)")
    publish_bi_copy(con, target)
    with duckdb.connect(str(target), read_only=True) as bi:
        assert bi.execute("select count(*) from marts.t").fetchone()[0] == 2
        rows = bi.execute("select schema_name from information_schema.schemata").fetchall()
        schemas = {row[0] for row in rows}
        assert "truth" not in schemas
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())


def test_every_contract_table_is_in_the_copy_with_its_columns_even_when_never_written(tmp_path):
    target = tmp_path / "bi.duckdb"
    counts = publish_bi_copy(_warehouse(tmp_path), target)
    assert {name: counts[name] for name in CONTRACTS} == dict.fromkeys(CONTRACTS, 0)
    with duckdb.connect(str(target), read_only=True) as bi:
        columns = bi.execute(
            "select table_schema || '.' || table_name, column_name from information_schema.columns"
        ).fetchall()
    for name, contract in CONTRACTS.items():
        assert [c for t, c in columns if t == name] == [c.name for c in contract.columns]


def test_a_table_the_warehouse_holds_is_copied_as_it_is_not_replaced_by_an_empty_one(tmp_path):
    con = _warehouse(tmp_path)
    con.execute("create schema monitoring")
    con.execute(CONTRACTS["monitoring.alerts"].create_statement())
    con.execute(
        "insert into monitoring.alerts (alert_id, raised_at, model_name, alert_type, severity, "
        "message) values ('a1', now(), 'm', 'error_rate', 'critical', 'errors')"
    )
    assert publish_bi_copy(con, tmp_path / "bi.duckdb")["monitoring.alerts"] == 1


def test_a_publication_killed_half_way_leaves_nothing_the_next_one_trips_on(tmp_path):
    target = tmp_path / "bi.duckdb"
    con = _warehouse(tmp_path)
    publish_bi_copy(con, target)
    before = target.read_bytes()
    partial = partial_path(target)
    partial.write_bytes(b"half a database file")
    partial.with_name(partial.name + ".wal").write_bytes(b"a log of another file")
    assert target.read_bytes() == before, "the published copy is untouched meanwhile"
    con.execute("insert into features.t values (5)")
    assert publish_bi_copy(con, target)["features.t"] == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bi.duckdb")]
