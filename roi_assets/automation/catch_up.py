"""Catch up on the landing zone: ingest, as one backfill run, every landed day not ingested yet.

`make run` uses it after a source delivered its history at once (the world's bootstrap, or a
customer's first export); afterwards `ingest_daily_schedule` takes one day a morning.
`python -m roi_assets.automation.catch_up`.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import dagster as dg

from roi_assets import settings
from roi_assets.automation.jobs import ingest_daily
from roi_assets.automation.resumable import LAUNCHED_BY_TAG, fail_orphaned_runs
from roi_assets.ingestion.contracts import CONTRACTS
from roi_assets.ingestion.daily_files import landing_date

# the range tags Dagster reads for a single-run backfill of a partition range
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
# Dagster's switch, read when a run is created, for one "materialisation planned" event per asset
# covering the run's whole partition range instead of one per asset and day.
PLANNED_EVENTS_AS_RANGE = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"


def landed_dates(landing_dir: Path) -> list[dt.date]:
    """Every date some source delivered a daily file for, in order."""
    dates = set()
    for contract in CONTRACTS.values():
        folder = landing_dir / contract.source
        for path in folder.glob(f"{contract.source}_*") if folder.exists() else ():
            found = landing_date(path.name, contract.source)
            if found is not None:
                dates.add(found)
    return sorted(dates)


def days_to_ingest(landed: list[dt.date], ingested: set[str]) -> list[dt.date]:
    """The landed days after the last ingested one (a gap before it is the schedule's to fill)."""
    last = max((dt.date.fromisoformat(key) for key in ingested), default=None)
    return [day for day in landed if last is None or day > last]


def ingested_days(instance: dg.DagsterInstance, defs: dg.Definitions) -> set[str]:
    """The days every daily-partitioned asset of `ingest_daily` has materialised: a run killed
    after the raw tables but before the features leaves its days to ingest again."""
    graph = defs.resolve_asset_graph()
    keys = [
        key
        for key in ingest_daily.selection.resolve(graph)
        if graph.get(key).partitions_def is not None
    ]
    days = [instance.get_materialized_partitions(key) for key in keys]
    return set.intersection(*days) if days else set()


def ingest_range(
    instance: dg.DagsterInstance,
    defs: dg.Definitions,
    first: dt.date,
    last: dt.date,
    tags: dict[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """Run `ingest_daily` once over the days `first`..`last`.

    The run plans its materialisations as one event per asset over the range: on the default
    world's 270 days that is 22 events instead of 5,940 writes to the event log (about 45 s of
    SQLite writes). What it gives up: should this run fail, the UI shows its days as missing
    rather than failed; the next catch-up ingests them either way.
    """
    os.environ.setdefault(PLANNED_EVENTS_AS_RANGE, "true")
    return defs.resolve_job_def(ingest_daily.name).execute_in_process(
        instance=instance,
        tags={RANGE_START: first.isoformat(), RANGE_END: last.isoformat(), **(tags or {})},
        raise_on_error=False,
    )


def main() -> int:
    from roi_assets.definitions import defs

    with dg.DagsterInstance.get() as instance:
        # the first of `make run`'s stages to run jobs: what a killed `make run` left is failed
        if orphans := fail_orphaned_runs(instance, "its process was killed; `make run` again"):
            print(f"{orphans} runs left unfinished by a killed process: failed")
        ingested = ingested_days(instance, defs)
        days = days_to_ingest(landed_dates(settings.landing_dir()), ingested)
        if not days:
            print("Landing zone: every landed day is ingested.")
            return 0
        print(f"Landing zone: ingesting {len(days)} days, {days[0]} to {days[-1]}, as one run")
        result = ingest_range(instance, defs, days[0], days[-1], {LAUNCHED_BY_TAG: "catch_up"})
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
