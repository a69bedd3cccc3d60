"""Whether a daily cron schedule ticks on a given day.

The product's schedules all tick once a day at a fixed time, on every day or on some days of the
week; only the day-of-week field decides. Written here because Dagster's cron iterator is not a
public API and no cron library is a dependency.
"""

from __future__ import annotations

import datetime as dt


def fires_on(cron: str, day: dt.date) -> bool:
    """True when `cron` ("m h * * dow", dow 0-7 with 0 and 7 Sunday, lists and ranges) ticks on
    `day`. Schedules with a day-of-month or month restriction are not daily: refused."""
    _, _, day_of_month, month, day_of_week = cron.split()
    if day_of_month != "*" or month != "*":
        raise ValueError(f"not a daily or weekly schedule: {cron!r}")
    if day_of_week == "*":
        return True
    cron_weekday = day.isoweekday() % 7  # Sunday 0 … Saturday 6
    for part in day_of_week.split(","):
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if any(value % 7 == cron_weekday for value in range(first, last + 1)):
            return True
    return False
