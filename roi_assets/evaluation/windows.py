"""Time windows: time-ordered splits, and the label that identifies an evaluated window.

Every evaluation is on a later window than training, so the split lives here and is shared by all
models. In `monitoring.model_evaluations` a window is identified by the column
`evaluation_window`, an ISO 8601 interval `<first>/<last>` of the earliest and latest timestamps (or
dates) of the evaluated rows: evaluating the same model version on the same rows again replaces its
rows, a new window adds rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl


@dataclass(frozen=True)
class TimeWindow:
    """A closed interval of time covered by a set of rows."""

    start: datetime | date
    end: datetime | date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a window cannot end ({self.end}) before it starts ({self.start})")

    @property
    def label(self) -> str:
        """ISO 8601 interval, the value stored in `evaluation_window`."""
        return f"{self.start.isoformat()}/{self.end.isoformat()}"

    @classmethod
    def covering(cls, times: pl.Series | Iterable[datetime | date]) -> TimeWindow:
        """The smallest window holding every timestamp given."""
        series = times if isinstance(times, pl.Series) else pl.Series(list(times))
        if series.len() == 0 or series.null_count() == series.len():
            raise ValueError("a window needs at least one timestamp")
        return cls(start=series.min(), end=series.max())

    def rows_of(self, frame: pl.DataFrame, time_column: str) -> pl.DataFrame:
        """The rows of `frame` whose time falls inside the window (both ends included)."""
        return frame.filter(pl.col(time_column).is_between(self.start, self.end, closed="both"))


def time_ordered_split(
    frame: pl.DataFrame, time_column: str, later_fraction: float
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split rows into an earlier and a later part, the later holding about `later_fraction`.

    Both parts come back sorted by time. Rows sharing a timestamp stay on the same side, so nothing
    in the later part happened before anything in the earlier part.
    """
    if not 0.0 < later_fraction < 1.0:
        raise ValueError(f"later_fraction must lie strictly between 0 and 1, got {later_fraction}")
    if time_column not in frame.columns:
        raise ValueError(f"missing time column {time_column!r}")
    ordered = frame.sort(time_column, maintain_order=True)
    cut_index = round(ordered.height * (1.0 - later_fraction))
    if not 0 < cut_index < ordered.height:
        raise ValueError(f"{ordered.height} rows are too few to split at {later_fraction:.0%}")
    cut_time = ordered[time_column][cut_index]
    earlier = ordered.filter(pl.col(time_column) < cut_time)
    later = ordered.filter(pl.col(time_column) >= cut_time)
    if earlier.height == 0:
        raise ValueError(f"every row shares the first timestamp of {time_column!r}; cannot split")
    return earlier, later


def latest_rows(frame: pl.DataFrame, time_column: str, max_rows: int) -> pl.DataFrame:
    """The most recent rows of `frame`, at most `max_rows`, sorted by time: a time-ordered
    training sample. Rows sharing the oldest kept timestamp are all dropped rather than split, so
    the sample is exactly "everything after" a moment."""
    if max_rows < 1:
        raise ValueError(f"max_rows must be positive, got {max_rows}")
    ordered = frame.sort(time_column, maintain_order=True)
    if ordered.height <= max_rows:
        return ordered
    boundary = ordered[time_column][ordered.height - max_rows - 1]
    return ordered.filter(pl.col(time_column) > boundary)
