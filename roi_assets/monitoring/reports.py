"""What every monitoring asset shares: its group, its retry policy, its clock and where its HTML
reports go."""

import datetime as dt
from pathlib import Path

import dagster as dg

from roi_assets import settings

GROUP = "monitoring"
# Reading the registry and local files can fail for a moment (a locked sqlite store, a log file
# being rotated); monitoring assets upsert keyed rows, so running them again is harmless.
SAFE_RETRY = dg.RetryPolicy(max_retries=2, delay=15, backoff=dg.Backoff.EXPONENTIAL)


def utc_now() -> dt.datetime:
    """Now in UTC, naive, as the warehouse stores timestamps."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def report_path(name: str) -> Path:
    """Where an Evidently HTML report called `name` is saved."""
    return settings.artifacts_dir() / "monitoring" / f"{name}.html"
