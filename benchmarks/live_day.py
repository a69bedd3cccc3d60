"""What a live day costs, read from the timings `make live` records (data/world/live_timings.jsonl).

Each live day's jobs are timed as they run; the day's wall time, the CPU seconds of the driver and
its finished subprocesses (dbt, Tesseract) and the load average at the day's end are recorded with
them (on a shared machine CPU seconds compare better than wall time). This prints the medians per
job and per day over the weekdays (Sunday's full search apart), then, for the first and the last
day, the seconds of the day's ingestion and features (`ingest_daily`) next to the rows that
landed: an incremental day costs in proportion to its own rows, so the last day's cost per row
stays near the first day's although the history behind it is longer. The baseline of the ratio is
the first day, in the same file.

    make live DAYS=35 && .venv/bin/python benchmarks/live_day.py [--last N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

from machine import load_average, machine_description

from roi_assets import settings

INGEST = "ingest_daily"
# Days with a full search: Sunday's `weekly_retrain` (`refresh_all` on Sundays recorded before
# it existed), and a drift retrain's `refresh_all`.
FULL_SEARCH = ("weekly_retrain", "refresh_all")


def _wall(day: dict) -> float:
    # days recorded before the wall time was: the jobs ran one after another
    return day.get("wall_seconds", sum(day["seconds"].values()))


def _print_medians(label: str, days: list[dict]) -> None:
    if not days:
        return
    walls = [_wall(day) for day in days]
    cpus = [day["cpu_seconds"] for day in days if "cpu_seconds" in day]
    loads = [day["load_average"] for day in days if "load_average" in day]
    line = f"{label} ({len(days)}): wall median {statistics.median(walls):.1f} s"
    line += f", max {max(walls):.1f} s"
    if cpus:
        line += f"; CPU median {statistics.median(cpus):.1f} s"
    if loads:
        line += f"; load average {min(loads):.1f}–{max(loads):.1f}"
    print(line)
    for job in sorted({job for day in days for job in day["seconds"]}):
        values = [day["seconds"].get(job, 0.0) for day in days]
        print(f"  {job:<20} median {statistics.median(values):6.1f} s   max {max(values):6.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--last", type=int, default=0, help="only the last N recorded days")
    args = parser.parse_args()
    path = settings.data_dir() / "world" / "live_timings.jsonl"
    if not path.exists():
        print(f"no live days recorded in {path}: run `make live` first")
        return 0
    days = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    days = days[-args.last :] if args.last else days
    print(machine_description())
    print(f"load average now: {load_average()}; {len(days)} live days in {path}")
    searched = [any(job in day["seconds"] for job in FULL_SEARCH) for day in days]
    _print_medians("weekdays", [day for day, full in zip(days, searched, strict=True) if not full])
    _print_medians(
        "days with a full search (Sundays, drift retrains)",
        [day for day, full in zip(days, searched, strict=True) if full],
    )
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
