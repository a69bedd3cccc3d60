"""Which landing files a day's run handles, from their names alone.

A source exports one file a day, named `<source>_YYYY-MM-DD.<ext>` for the day it covers. The run
for day d takes the files named for d, and late files named within the features' lookback
[d - LATE_TOLERANCE_DAYS, d): those still reach the incremental models, which re-read that many
days. A file named earlier than that arrived too late to be seen by them: it is quarantined, not
loaded. Files named after d wait for their own day; a name without a date belongs to no day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

LATE_TOLERANCE_DAYS = 3

_DATED_NAME = re.compile(r"^(?P<source>.+)_(?P<date>\d{4}-\d{2}-\d{2})\.(?P<ext>[A-Za-z0-9]+)$")


class Timing(StrEnum):
    ON_TIME = "on time"
    LATE = "late"  # within the tolerance: loaded, reported as late
    TOO_LATE = "too late"  # beyond the tolerance: quarantined
    LATER = "later"  # named for a later day: left for that day's run


@dataclass(frozen=True)
class DueFile:
    """A file the run for `day` handles, with how late it is."""

    name: str
    landing_date: dt.date
    timing: Timing
    days_late: int


def landing_date(file_name: str, source: str) -> dt.date | None:
    """The day a file covers, from a `<source>_YYYY-MM-DD.<ext>` base name; None for any other
    name (another source's prefix, no date, an impossible date)."""
    match = _DATED_NAME.match(file_name.rsplit("/", 1)[-1])
    if match is None or match["source"] != source:
        return None
    try:
        return dt.date.fromisoformat(match["date"])
    except ValueError:
        return None


def timing(named_for: dt.date, day: dt.date) -> Timing:
    """How a file named for `named_for` stands when found by the run for `day`."""
    late = (day - named_for).days
    if late < 0:
        return Timing.LATER
    if late == 0:
        return Timing.ON_TIME
    if late <= LATE_TOLERANCE_DAYS:
        return Timing.LATE
    return Timing.TOO_LATE


def too_late_reason(days_late: int) -> str:
    return f"arrived {days_late} days late, beyond the {LATE_TOLERANCE_DAYS}-day lookback"


def due_on(day: dt.date, files: Iterable[tuple[str, dt.date]], handled: set[str]) -> list[DueFile]:
    """The not-yet-handled files the run for `day` takes, oldest date first, then by name."""
    due = [
        DueFile(name, named_for, timing(named_for, day), (day - named_for).days)
        for name, named_for in files
        if name not in handled and named_for <= day
    ]
    return sorted(due, key=lambda f: (f.landing_date, f.name))
