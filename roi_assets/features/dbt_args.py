"""The dbt command line a run of the dbt assets passes.

A partitioned run hands dbt its days as the vars `min_date` (inclusive) and `max_date`
(exclusive), ISO dates: the incremental models rebuild only what those days' landing files can
have changed (dbt_project/macros/incremental_window.sql). A range of days (a single-run backfill)
is one window. Without a window, or with a full refresh, dbt builds every model from all of raw.
"""

from __future__ import annotations

import datetime as dt
import json


def window_vars(first_day: dt.date, end_day: dt.date) -> dict[str, str]:
    """The vars for the days [first_day, end_day): end_day is the day after the last one."""
    if end_day <= first_day:
        raise ValueError(f"an empty window: {first_day} to {end_day} (end excluded)")
    return {"min_date": first_day.isoformat(), "max_date": end_day.isoformat()}


def dbt_args(
    command: str,
    window: tuple[dt.date, dt.date] | None = None,
    *,
    full_refresh: bool = False,
) -> list[str]:
    """`dbt <command>` over the window's days, or over everything (no window, or full refresh)."""
    args = [command]
    if full_refresh:
        args.append("--full-refresh")
    elif window is not None:
        args.extend(["--vars", json.dumps(window_vars(*window))])
    return args
