"""What a live day costs, read from the timings `make live` records (data/world/live_timings.jsonl).

Each live day's jobs are timed as they run; this prints, for the first and the last day of the
latest `make live`, the seconds of the day's ingestion and features (`ingest_daily`) next to the
rows that landed, and their ratio: an incremental day costs in proportion to its own rows, so
the last day's cost per row stays near the first day's although the history behind it is longer.

    make live DAYS=35 && .venv/bin/python benchmarks/live_day.py
"""

from __future__ import annotations

import json
import statistics
import sys

from machine import load_average, machine_description

from roi_assets import settings

INGEST = "ingest_daily"


def main() -> int:
    path = settings.data_dir() / "world" / "live_timings.jsonl"
    if not path.exists():
        print(f"no live days recorded in {path}: run `make live` first")
        return 0
    days = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    print(machine_description())
    print(f"load average before: {load_average()}; {len(days)} live days in {path}")
    totals = [sum(day["seconds"].values()) for day in days]
    print(f"whole day: median {statistics.median(totals):.1f} s, max {max(totals):.1f} s")
    jobs = sorted({job for day in days for job in day["seconds"]})
    for job in jobs:
        values = [day["seconds"].get(job, 0.0) for day in days]
        print(f"  {job:<20} median {statistics.median(values):6.1f} s   max {max(values):6.1f} s")
    first, last = days[0], days[-1]
    for label, day in (("first", first), ("last", last)):
        seconds = day["seconds"].get(INGEST, float("nan"))
        print(
            f"{label} day {day['date']}: {INGEST} {seconds:.1f} s for {day['rows_landed']:,} rows "
            f"landed ({1000 * seconds / max(day['rows_landed'], 1):.2f} ms per row)"
        )
    ratio = last["seconds"].get(INGEST, 0) / max(first["seconds"].get(INGEST, 0), 1e-9)
    rows = last["rows_landed"] / max(first["rows_landed"], 1)
    print(f"last / first: {INGEST} time {ratio:.2f}x, rows landed {rows:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
