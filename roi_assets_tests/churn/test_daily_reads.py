import duckdb
import numpy as np
import polars as pl
import pytest

from roi_assets.churn.daily_reads import daily_rows_for, sequences_for
from roi_assets.churn.features import SEQUENCE_DAYS, build_sequences


@pytest.fixture()
def warehouse(world):
    con = duckdb.connect()
    daily = pl.from_pandas(world.daily).with_columns(pl.col("activity_date").cast(pl.Date))
    con.execute("create schema features")
    con.register("daily_frame", daily.to_arrow())
    con.execute("create table features.feat_client_daily as select * from daily_frame")
    yield con, daily
    con.close()


@pytest.fixture()
def keys(world) -> pl.DataFrame:
    churn = pl.from_pandas(world.churn).with_columns(pl.col("snapshot_date").cast(pl.Date))
    return churn.filter(pl.col("client_id").is_in(churn["client_id"].unique().head(5).implode()))


def test_sequences_read_from_the_warehouse_equal_those_of_the_whole_daily_table(warehouse, keys):
    con, daily = warehouse

    assert np.array_equal(sequences_for(con, keys), build_sequences(daily, keys))


def test_only_the_days_a_sequence_reads_are_fetched(warehouse, keys):
    con, _ = warehouse
    latest = keys.filter(pl.col("snapshot_date") == pl.col("snapshot_date").max().over("client_id"))

    rows = daily_rows_for(con, latest)

    assert set(rows["client_id"].unique()) <= set(latest["client_id"])
    days_before = rows.join(latest, on="client_id").select(
        (pl.col("snapshot_date") - pl.col("activity_date")).dt.total_days()
    )
    assert days_before.to_series().is_between(1, SEQUENCE_DAYS).all()
