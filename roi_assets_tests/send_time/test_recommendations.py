import datetime as dt

import pandas as pd
import polars as pl
import pytest

from roi_assets.send_time.recommendations import (
    RECOMMENDATION_COLUMNS,
    recommendation_rows,
    utc_hour_of_week,
)


def test_a_local_hour_of_week_moves_to_utc_by_the_offset_and_wraps_around_the_week():
    hours = utc_hour_of_week([9, 2, 167, 10], [-5.0, 5.0, -8.0, 5.5])
    assert hours.tolist() == [14, 165, 7, 4]


def test_every_client_gets_one_row_with_a_probability_clipped_to_the_unit_interval():
    clients = pl.DataFrame({"client_id": ["A", "B"], "utc_offset_hours": [-5.0, -8.0]})
    predictions = pd.DataFrame({"best_hour_of_week": [9, 30], "expected_reward": [0.3, 1.02]})
    rows = recommendation_rows(clients, predictions, "4", dt.datetime(2025, 6, 1))
    assert rows.columns == list(RECOMMENDATION_COLUMNS)
    assert rows["best_hour_of_week_utc"].to_list() == [14, 38]
    assert rows["expected_open_probability"].to_list() == [0.3, 1.0]
    assert rows["model_version"].to_list() == ["4", "4"]


def test_predictions_must_match_the_clients_one_to_one():
    clients = pl.DataFrame({"client_id": ["A"], "utc_offset_hours": [0.0]})
    predictions = pd.DataFrame({"best_hour_of_week": [1, 2], "expected_reward": [0.1, 0.2]})
    with pytest.raises(ValueError, match="one prediction per client"):
        recommendation_rows(clients, predictions, "1", dt.datetime(2025, 6, 1))
