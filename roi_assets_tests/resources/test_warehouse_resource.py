"""The warehouse resource lets go of the file when the block that used it failed, so the same
process can open the warehouse again with other settings (the live loop reads it read-only after
a day whose step failed)."""

import duckdb
import pytest

from roi_assets.resources.warehouse import connect, duckdb_resource


def test_a_connection_that_raised_is_closed_and_the_file_opens_read_only_after(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    resource = duckdb_resource(path)
    with resource.get_connection() as con:
        con.execute("create table t (id integer primary key)")
        con.execute("insert into t values (1)")

    with pytest.raises(duckdb.ConstraintException), resource.get_connection() as con:
        failed = con  # what a kept traceback would hold on to
        con.execute("insert into t values (1)")

    with pytest.raises(duckdb.ConnectionException, match="closed"):
        failed.execute("select 1")
    with connect(path, read_only=True) as reader:
        assert reader.execute("select count(*) from t").fetchone() == (1,)
