import datetime as dt

import pytest

from roi_assets.simulator.schedule_ticks import fires_on

SUNDAY = dt.date(2025, 10, 5)
MONDAY = dt.date(2025, 10, 6)
SATURDAY = dt.date(2025, 10, 4)


def test_an_every_day_schedule_ticks_every_day():
    assert all(fires_on("0 4 * * *", SUNDAY + dt.timedelta(days=d)) for d in range(7))


def test_monday_to_saturday_skips_sunday():
    assert fires_on("0 5 * * 1-6", MONDAY)
    assert fires_on("0 5 * * 1-6", SATURDAY)
    assert not fires_on("0 5 * * 1-6", SUNDAY)


@pytest.mark.parametrize("sunday", ["0", "7", "6,0"])
def test_sunday_is_zero_or_seven(sunday):
    assert fires_on(f"0 5 * * {sunday}", SUNDAY)
    assert not fires_on(f"0 5 * * {sunday}", MONDAY)


def test_a_monthly_schedule_is_refused():
    with pytest.raises(ValueError, match="not a daily"):
        fires_on("0 5 1 * *", MONDAY)
