from datetime import date, datetime

import polars as pl
import pytest

from roi_assets.evaluation.windows import TimeWindow, latest_rows, time_ordered_split


def _sends(days: list[int]) -> pl.DataFrame:
    return pl.DataFrame({"sent_at": [datetime(2024, 1, d) for d in days], "row": range(len(days))})


def test_the_later_part_holds_the_last_rows_in_time():
    earlier, later = time_ordered_split(_sends([5, 1, 4, 2, 3, 10, 9, 8, 7, 6]), "sent_at", 0.3)

    assert earlier["sent_at"].dt.day().to_list() == [1, 2, 3, 4, 5, 6, 7]
    assert later["sent_at"].dt.day().to_list() == [8, 9, 10]


def test_rows_sharing_a_timestamp_stay_on_the_same_side():
    earlier, later = time_ordered_split(_sends([1, 2, 3, 3, 3, 4]), "sent_at", 0.5)

    assert earlier["sent_at"].max() < later["sent_at"].min()
    assert later["sent_at"].dt.day().to_list() == [3, 3, 3, 4]


def test_a_split_needs_rows_on_both_sides():
    with pytest.raises(ValueError, match="too few"):
        time_ordered_split(_sends([1, 2]), "sent_at", 0.1)
    with pytest.raises(ValueError, match="strictly between"):
        time_ordered_split(_sends([1, 2]), "sent_at", 1.0)


def test_a_window_is_labelled_as_an_iso_interval_of_its_rows():
    window = TimeWindow.covering(_sends([3, 1, 2])["sent_at"])

    assert window.label == "2024-01-01T00:00:00/2024-01-03T00:00:00"
    assert TimeWindow.covering([date(2024, 2, 5), date(2024, 2, 1)]).label == (
        "2024-02-01/2024-02-05"
    )


def test_a_window_selects_the_rows_inside_it():
    window = TimeWindow(datetime(2024, 1, 2), datetime(2024, 1, 3))

    assert window.rows_of(_sends([1, 2, 3, 4]), "sent_at")["row"].to_list() == [1, 2]


def test_a_time_ordered_sample_keeps_the_most_recent_rows():
    frame = pl.DataFrame({"t": [5, 1, 4, 2, 3], "x": ["e", "a", "d", "b", "c"]})
    assert latest_rows(frame, "t", 3)["x"].to_list() == ["c", "d", "e"]


def test_a_time_ordered_sample_never_splits_a_timestamp():
    frame = pl.DataFrame({"t": [1, 2, 2, 3]})
    assert latest_rows(frame, "t", 2)["t"].to_list() == [3]


def test_a_frame_within_the_cap_is_kept_whole():
    frame = pl.DataFrame({"t": [2, 1]})
    assert latest_rows(frame, "t", 2)["t"].to_list() == [1, 2]
