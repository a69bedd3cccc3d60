"""The day rules: which landing files the run for a day takes, and how late they are."""

import datetime as dt

import pytest

from roi_assets.ingestion.daily_files import (
    LATE_TOLERANCE_DAYS,
    Timing,
    due_on,
    landing_date,
    timing,
    too_late_reason,
)

DAY = dt.date(2025, 1, 20)


def _days_before(n: int) -> dt.date:
    return DAY - dt.timedelta(days=n)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("clients/clients_2025-01-20.csv", dt.date(2025, 1, 20)),
        ("s3://bucket/zone/landing/clients/clients_2025-01-20.csv", dt.date(2025, 1, 20)),
        ("clients/2025/clients_2025-01-20.csv", dt.date(2025, 1, 20)),
        ("clients/clients.csv", None),
        ("clients/crm_2025-01-20.csv", None),
        ("clients/clients_2025-02-30.csv", None),
        ("clients/clients_20250120.csv", None),
        ("clients/clients_2025-01-20_resent.csv", None),
    ],
)
def test_the_landing_date_is_the_date_in_the_source_named_file(name, expected):
    assert landing_date(name, "clients") == expected


def test_a_file_named_for_another_source_prefix_has_no_landing_date_for_this_one():
    assert landing_date("email_events/email_events_2025-01-20.jsonl", "events") is None


@pytest.mark.parametrize(
    ("days_late", "expected"),
    [
        (-1, Timing.LATER),
        (0, Timing.ON_TIME),
        (1, Timing.LATE),
        (LATE_TOLERANCE_DAYS, Timing.LATE),
        (LATE_TOLERANCE_DAYS + 1, Timing.TOO_LATE),
        (30, Timing.TOO_LATE),
    ],
)
def test_files_within_the_lookback_are_late_and_older_ones_too_late(days_late, expected):
    assert timing(_days_before(days_late), DAY) == expected


def test_the_tolerance_is_the_features_three_day_lookback():
    assert LATE_TOLERANCE_DAYS == 3
    assert too_late_reason(5) == "arrived 5 days late, beyond the 3-day lookback"


def test_a_day_takes_its_own_and_earlier_unhandled_files_oldest_first_and_leaves_later_ones():
    files = [
        ("c/c_2025-01-21.csv", _days_before(-1)),
        ("c/c_2025-01-20.csv", DAY),
        ("c/c_2025-01-18.csv", _days_before(2)),
        ("c/c_2025-01-10.csv", _days_before(10)),
        ("c/c_2025-01-19.csv", _days_before(1)),
    ]

    due = due_on(DAY, files, handled={"c/c_2025-01-19.csv"})

    assert [(f.name, f.timing, f.days_late) for f in due] == [
        ("c/c_2025-01-10.csv", Timing.TOO_LATE, 10),
        ("c/c_2025-01-18.csv", Timing.LATE, 2),
        ("c/c_2025-01-20.csv", Timing.ON_TIME, 0),
    ]


def test_a_day_without_files_has_nothing_due():
    assert due_on(DAY, [], handled=set()) == []
