import duckdb

from roi_assets.resources.table_contracts import CONTRACTS, ensure_table

TABLE = "monitoring.fairness_metrics"


def test_a_table_written_before_a_column_joined_its_contract_gains_it_and_keeps_its_rows():
    con = duckdb.connect()
    con.execute("create schema monitoring")
    con.execute(
        f"create table {TABLE} (model_name varchar not null, model_version varchar not null, "
        "variant varchar not null, attribute varchar not null, metric varchar not null, "
        '"group" varchar, value double, "limit" double, within_limit boolean, '
        "computed_at timestamp not null)"
    )
    con.execute(
        f"insert into {TABLE} values ('m', '1', 'model', 'a', 'accuracy', null, 0.9, "
        "null, null, timestamp '2025-01-01')"
    )

    ensure_table(con, TABLE)

    columns = [row[0] for row in con.execute(f"describe {TABLE}").fetchall()]
    assert columns == [column.name for column in CONTRACTS[TABLE].columns]
    assert con.execute(f"select value, ci_low from {TABLE}").fetchall() == [(0.9, None)]


def test_a_missing_table_is_created_from_its_contract():
    con = duckdb.connect()

    ensure_table(con, TABLE)

    assert con.execute(f"select count(*) from {TABLE}").fetchone() == (0,)
