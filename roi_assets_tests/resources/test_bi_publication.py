import duckdb

from roi_assets.resources.bi_publication import publish_bi_copy


def test_bi_copy_holds_the_bi_schemas_only_and_replaces_the_previous_copy(tmp_path):
    target = tmp_path / "bi.duckdb"
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    for schema in ("features", "marts", "truth"):
        con.execute(f"create schema {schema}")
        con.execute(f"create table {schema}.t as select 1 as x")
    assert publish_bi_copy(con, target) == {"features.t": 1, "marts.t": 1}
    con.execute("insert into marts.t values (2)")
    publish_bi_copy(con, target)
    with duckdb.connect(str(target), read_only=True) as bi:
        assert bi.execute("select count(*) from marts.t").fetchone()[0] == 2
        rows = bi.execute("select schema_name from information_schema.schemata").fetchall()
        schemas = {row[0] for row in rows}
        assert "truth" not in schemas
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())
