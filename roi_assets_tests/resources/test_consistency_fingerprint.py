"""The crash-consistency fingerprint tells a lost or duplicated row from the last bits a re-run's
different summation order moves."""

import re

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


def test_the_records_of_versions_no_alias_points_to_are_left_out(tmp_path):
    def evaluations(path, versions: list[str]) -> dict:
        with duckdb.connect(str(path)) as con:
            con.execute("create schema monitoring")
            con.execute(
                "create table monitoring.model_evaluations (model_name varchar, "
                "model_version varchar, metric varchar, value double, "
                "primary key (model_name, model_version, metric))"
            )
            for version in versions:
                con.execute(
                    "insert into monitoring.model_evaluations values ('m', ?, 'auc', 0.7)",
                    [version],
                )
        return warehouse_fingerprint(
            path, ignore_pattern=re.compile("version"), left_out_versions=frozenset({("m", "1")})
        )

    uninterrupted = evaluations(tmp_path / "a.duckdb", ["2"])
    # a killed run registered and evaluated v1; the re-run's v2 holds the aliases
    killed_and_rerun = evaluations(tmp_path / "b.duckdb", ["1", "2"])

    assert fingerprint_differences(uninterrupted, killed_and_rerun) == []
