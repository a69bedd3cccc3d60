"""How a run of the dbt assets tells dbt its days.

A partitioned run hands dbt its days through the environment, `ROI_DBT_MIN_DATE` (inclusive) and
`ROI_DBT_MAX_DATE` (exclusive), ISO dates: the incremental models rebuild only what those days'
landing files can have changed (dbt_project/macros/incremental_window.sql, which also accepts the
same window as the vars `min_date` and `max_date` on a command line). A range of days (a
single-run backfill) is one window. Without a window, or with a full refresh, dbt builds every
model from all of raw.

Environment rather than `--vars`: dbt keeps its parsed project between invocations (partial
parsing) only while the vars are unchanged, so a new window in the vars re-parsed the whole
project every day (about 7 s of CPU at the default scale); a changed environment variable
re-parses only the two data tests that read the window while parsing.
"""

from __future__ import annotations

import datetime as dt

WINDOW_START = "ROI_DBT_MIN_DATE"
WINDOW_END = "ROI_DBT_MAX_DATE"


def window_vars(first_day: dt.date, end_day: dt.date) -> dict[str, str]:
    """The window's vars for the days [first_day, end_day): end_day is the day after the last."""
    if end_day <= first_day:
        raise ValueError(f"an empty window: {first_day} to {end_day} (end excluded)")
    return {"min_date": first_day.isoformat(), "max_date": end_day.isoformat()}


def window_environment(
    window: tuple[dt.date, dt.date] | None = None, *, full_refresh: bool = False
) -> dict[str, str]:
    """The environment variables of a dbt invocation over the window's days; both empty (every
    model built from all of raw) without a window or with a full refresh."""
    if window is None or full_refresh:
        return {WINDOW_START: "", WINDOW_END: ""}
    bounds = window_vars(*window)
    return {WINDOW_START: bounds["min_date"], WINDOW_END: bounds["max_date"]}


def dbt_args(command: str, *, full_refresh: bool = False) -> list[str]:
    """`dbt <command>`, rebuilding every incremental model from scratch with a full refresh. A
    build leaves out dbt's unit tests: they check the models' SQL on fixed rows, which the test
    suite does once (`dbt test --select test_type:unit`), not every day's data."""
    args = [command]
    if command == "build":
        args += ["--exclude-resource-type", "unit_test"]
    return [*args, "--full-refresh"] if full_refresh else args
