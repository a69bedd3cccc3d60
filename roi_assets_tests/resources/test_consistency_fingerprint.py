"""The crash-consistency fingerprint tells a lost or duplicated row from the last bits a re-run's
different summation order moves."""

import duckdb

from roi_assets.resources.consistency import fingerprint_differences, warehouse_fingerprint


def _warehouse(path, rows: list[tuple[str, float]]) -> dict:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema features")
        con.execute("create table features.scores (client_id varchar, hours double)")
        con.executemany("insert into features.scores values (?, ?)", rows)
    return warehouse_fingerprint(path)


def test_float_noise_is_no_difference_but_a_duplicated_row_is(tmp_path):
    reference = _warehouse(tmp_path / "a.duckdb", [("c1", 10.07), ("c2", 3.5)])
    summed_otherwise = _warehouse(tmp_path / "b.duckdb", [("c1", 10.07 + 5e-15), ("c2", 3.5)])
    duplicated = _warehouse(tmp_path / "c.duckdb", [("c1", 10.07), ("c1", 10.07), ("c2", 3.5)])
    changed = _warehouse(tmp_path / "d.duckdb", [("c1", 10.08), ("c2", 3.5)])

    assert fingerprint_differences(reference, summed_otherwise) == []
    assert fingerprint_differences(reference, duplicated) == [
        "features.scores: 3 rows, expected 2; differing columns: client_id, hours"
    ]
    assert fingerprint_differences(reference, changed) == [
        "features.scores: 2 rows, expected 2; differing columns: hours"
    ]
