from datetime import date

import numpy as np
import pandas as pd
import polars as pl
import pytest

from roi_assets.churn.features import (
    CHURN_FEATURES,
    DAILY_METRICS,
    build_sequences,
    label_column,
    tabular_matrix,
)


def _daily(rows: list[tuple[str, date, float]]) -> pd.DataFrame:
    """Daily rows where every metric holds the same value, so positions are easy to read."""
    frame = pd.DataFrame(rows, columns=["client_id", "activity_date", "value"])
    for i, name in enumerate(DAILY_METRICS):
        frame[name] = frame["value"] * 100 + i
    return frame.drop(columns="value")


def test_build_sequences_puts_the_day_before_the_snapshot_last_and_thirty_days_before_first():
    daily = _daily(
        [
            ("a", date(2024, 3, 1), 1.0),  # snapshot - 31: outside the window
            ("a", date(2024, 3, 2), 2.0),  # snapshot - 30: position 0
            ("a", date(2024, 3, 16), 3.0),  # snapshot - 16: position 14
            ("a", date(2024, 3, 31), 4.0),  # snapshot - 1: position 29
            ("a", date(2024, 4, 1), 5.0),  # the snapshot day itself: outside
        ]
    )
    keys = pd.DataFrame({"client_id": ["a"], "snapshot_date": [date(2024, 4, 1)]})

    sequences = build_sequences(daily, keys)

    assert sequences.shape == (1, 30, 15)
    assert sequences.dtype == np.float32
    metric_offsets = np.arange(len(DAILY_METRICS))
    np.testing.assert_array_equal(sequences[0, 0], 200 + metric_offsets)
    np.testing.assert_array_equal(sequences[0, 14], 300 + metric_offsets)
    np.testing.assert_array_equal(sequences[0, 29], 400 + metric_offsets)


def test_build_sequences_zero_fills_missing_days_and_unknown_clients():
    daily = _daily([("a", date(2024, 3, 31), 4.0), ("b", date(2024, 3, 20), 7.0)])  # b: pos 18
    keys = pd.DataFrame(
        {
            "client_id": ["a", "b", "unknown"],
            "snapshot_date": [date(2024, 4, 1), date(2024, 4, 1), date(2024, 4, 1)],
        }
    )

    sequences = build_sequences(daily, keys)

    assert np.count_nonzero(sequences[0, :29]) == 0
    assert np.count_nonzero(sequences[1, :18]) == 0 and np.count_nonzero(sequences[1, 19:]) == 0
    assert sequences[1, 18, 0] == 700
    assert np.count_nonzero(sequences[2]) == 0


def test_build_sequences_gives_each_snapshot_of_a_client_its_own_window():
    daily = _daily([("a", date(2024, 3, 31), 4.0)])
    keys = pd.DataFrame(
        {"client_id": ["a", "a"], "snapshot_date": [date(2024, 4, 1), date(2024, 4, 8)]}
    )

    sequences = build_sequences(daily, keys)

    assert sequences[0, 29, 0] == 400
    assert sequences[1, 22, 0] == 400


def test_build_sequences_reads_polars_frames_like_pandas_frames(world):
    pandas_result = build_sequences(world.daily, world.churn[["client_id", "snapshot_date"]])
    polars_result = build_sequences(
        pl.from_pandas(world.daily), pl.from_pandas(world.churn[["client_id", "snapshot_date"]])
    )

    np.testing.assert_array_equal(pandas_result, polars_result)
    np.testing.assert_array_equal(pandas_result, world.sequences)


def test_tabular_matrix_orders_features_as_the_contract_and_rejects_missing_ones(world):
    shuffled = world.churn[list(reversed(CHURN_FEATURES))]

    matrix = tabular_matrix(shuffled)

    np.testing.assert_array_equal(matrix[:, 0], world.churn[CHURN_FEATURES[0]].to_numpy())
    with pytest.raises(KeyError, match="contract_renewal_proximity"):
        tabular_matrix(world.churn.drop(columns="contract_renewal_proximity"))


def test_label_columns_exist_for_the_three_prediction_windows_only():
    assert [label_column(w) for w in (30, 60, 90)] == [
        "churned_within_30d",
        "churned_within_60d",
        "churned_within_90d",
    ]
    with pytest.raises(ValueError):
        label_column(45)
