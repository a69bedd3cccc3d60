import math
from datetime import datetime

import duckdb
import polars as pl
import pytest

from roi_assets.evaluation.model_evaluations import TABLE, write_model_evaluations


def _rows(window: str = "2024-03-01/2024-03-31", auc: float = 0.78) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "model_name": ["roi-engagement-open"] * 2,
            "model_version": ["3", "3"],
            "metric": ["auc_roc", "brier_score"],
            "value": [auc, 0.15],
            "oracle_value": [0.80, 0.14],
            "baseline_value": [0.74, float("nan")],
            "evaluated_at": [datetime(2024, 4, 1, 6, 0)] * 2,
            "evaluation_window": [window] * 2,
        }
    )


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def _count(con) -> int:
    return con.execute(f"select count(*) from {TABLE}").fetchone()[0]


def test_writing_the_same_evaluation_twice_keeps_one_copy(con):
    write_model_evaluations(con, _rows())
    write_model_evaluations(con, _rows())

    assert _count(con) == 2


def test_re_evaluating_a_window_replaces_its_values(con):
    write_model_evaluations(con, _rows(auc=0.70))
    write_model_evaluations(con, _rows(auc=0.78))

    value = con.execute(f"select value from {TABLE} where metric = 'auc_roc'").fetchone()[0]
    assert value == pytest.approx(0.78)


def test_a_new_window_adds_rows(con):
    write_model_evaluations(con, _rows("2024-03-01/2024-03-31"))
    write_model_evaluations(con, _rows("2024-04-01/2024-04-30"))

    assert _count(con) == 4


def test_nan_values_are_stored_as_null(con):
    write_model_evaluations(con, _rows())

    stored = con.execute(f"select baseline_value from {TABLE} where metric = 'brier_score'")
    assert stored.fetchone()[0] is None
    assert not math.isnan(con.execute(f"select sum(value) from {TABLE}").fetchone()[0])


def test_rows_without_the_evaluation_columns_are_refused(con):
    with pytest.raises(ValueError, match="evaluation_window"):
        write_model_evaluations(con, _rows().drop("evaluation_window"))


def test_rows_repeating_a_key_are_refused(con):
    with pytest.raises(ValueError, match="repeat a key"):
        write_model_evaluations(con, pl.concat([_rows(), _rows()]))
