import datetime as dt

import polars as pl
import pytest

from roi_assets.churn.folds import InsufficientHistory
from roi_assets.churn.splits import sample_training_clients, split_window


@pytest.fixture(scope="module")
def warehouse_rows(world) -> pl.DataFrame:
    """The synthetic churn rows as the warehouse holds them: dates, and labels NULL where the
    window reaches past the last observed day (2024-05-01, three weeks after the last snapshot)."""
    last_observed = dt.date(2024, 5, 1)
    rows = pl.from_pandas(world.churn).with_columns(pl.col("snapshot_date").cast(pl.Date))
    return rows.with_columns(
        pl.when(pl.col("snapshot_date") + pl.duration(days=window) <= last_observed)
        .then(pl.col(f"churned_within_{window}d"))
        .alias(f"churned_within_{window}d")
        for window in (30, 60, 90)
    )


def test_training_labels_close_before_the_first_evaluated_snapshot(warehouse_rows):
    split = split_window(warehouse_rows, 30)

    last_label_day = split.training["snapshot_date"].max() + dt.timedelta(days=30)
    assert last_label_day < split.evaluation_start
    assert split.training.height > 0 and split.evaluation.height > 0
    assert split.boundary_purge_days == 30


def test_evaluation_rows_are_the_latest_snapshots_whose_label_is_observed(warehouse_rows):
    split = split_window(warehouse_rows, 30)

    labelled = warehouse_rows.filter(pl.col("churned_within_30d").is_not_null())
    assert split.evaluation["churned_within_30d"].null_count() == 0
    assert split.evaluation["snapshot_date"].max() == labelled["snapshot_date"].max()
    assert split.evaluation_window.label.endswith(str(labelled["snapshot_date"].max()))


def test_a_shorter_boundary_purge_is_recorded_and_keeps_snapshots_closer_to_evaluation(
    warehouse_rows,
):
    strict = split_window(warehouse_rows, 30)
    short = split_window(warehouse_rows, 30, boundary_purge_days=0)

    assert short.boundary_purge_days == 0
    assert short.training["snapshot_date"].max() > strict.training["snapshot_date"].max()
    assert short.training["snapshot_date"].max() < short.evaluation_start
    assert short.evaluation.equals(strict.evaluation)


def test_a_window_longer_than_the_labelled_history_is_insufficient_history_not_a_crash(
    warehouse_rows,
):
    with pytest.raises(InsufficientHistory, match="90-day"):
        split_window(warehouse_rows, 90)


def test_a_client_sample_keeps_whole_time_lines_and_the_evaluation_rows(warehouse_rows):
    split = split_window(warehouse_rows, 30)
    clients = split.training["client_id"].n_unique()

    sampled = sample_training_clients(split, clients // 4, seed=3)

    assert sampled.training["client_id"].n_unique() == clients // 4
    kept = split.training.filter(pl.col("client_id").is_in(sampled.training["client_id"].implode()))
    assert sampled.training.height == kept.height
    assert sampled.evaluation.equals(split.evaluation)
    assert sampled.training.equals(sample_training_clients(split, clients // 4, seed=3).training)


def test_a_client_sample_larger_than_the_clients_changes_nothing(warehouse_rows):
    split = split_window(warehouse_rows, 30)

    assert sample_training_clients(split, 10**9, seed=3) is split
