"""`make live`: the world advances one day at a time and the product lives each day as its daemon
would run it.

After the world writes day d, the morning of d + 1 is played: every schedule of the product's
definitions is evaluated at its tick on that morning (the same run requests the daemon would get:
`ingest_daily` for partition d, the daily retrain or Sunday's search, the rollout step, monitoring),
each request runs as a run of its job in the Dagster instance of DAGSTER_HOME, the document
sensor's runs read the day's documents, the drift sensor is evaluated once, and the BI copy is
published (as the run-status sensors would) so the world reads the product's decisions for its next
day. `python -m roi_assets.simulator.live --days 35` brings the world to 35 live days; re-run after
an interruption, it finishes the day it stopped in, then continues.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import dagster as dg
import polars as pl
from mlflow.tracking import MlflowClient

from roi_assets import settings
from roi_assets.automation.resumable import (
    LAUNCHED_BY_TAG,
    fail_orphaned_runs,
    request_key,
    run_once,
)
from roi_assets.definitions import defs
from roi_assets.documents.arrivals import LOCAL_SETTLE_NS
from roi_assets.documents.process_landed import execute_requests, look_until_done, read_ahead
from roi_assets.documents.sensors import document_intake
from roi_assets.evaluation.business_impact import daily_impact, live_days, uplift_table
from roi_assets.monitoring.drift.sensors import drift_retrain_sensor
from roi_assets.resources.storage import LandingZoneResource
from roi_assets.resources.warehouse import connect, duckdb_resource, table_exists
from roi_assets.simulator.__main__ import default_world
from roi_assets.simulator.environment import DayReport, World
from roi_assets.simulator.schedule_ticks import fires_on

PROGRESS_FILE = "live_progress.json"
TIMINGS_FILE = "live_timings.jsonl"  # one line per live day: seconds per job (benchmarks read it)
BI_JOB = "publish_bi"


@dataclass
class DayLine:
    """The figures `make live` prints for a day."""

    date: dt.date
    landed: int
    loaded: int
    quarantined: int
    retrained: int
    promoted: int
    rolled_back: int
    alerts: int
    seconds: float
    rates: dict[str, float]
    # the lifecycle's transitions of the day, e.g. "churn-30d v4 promoted"
    lifecycle: tuple[str, ...] = ()

    def __str__(self) -> str:
        rates = self.rates
        engagement = (
            f"open {rates['product_open']:.1%} (legacy {rates['legacy_open']:.1%}) "
            f"ctr {rates['product_click']:.2%} (legacy {rates['legacy_click']:.2%})"
            if rates
            else "no product decisions yet"
        )
        return (
            f"{self.date}  rows landed {self.landed:>6,} loaded {self.loaded:>6,} "
            f"quarantined {self.quarantined:>3}  models retrained {self.retrained} "
            f"promoted {self.promoted} rolled back {self.rolled_back}  {engagement}  "
            f"alerts {self.alerts}  {self.seconds:.0f} s"
            + (f"\n            lifecycle: {'; '.join(self.lifecycle)}" if self.lifecycle else "")
        )


LAUNCHED_BY = "make live"


def play_morning(
    instance: dg.DagsterInstance, date: dt.date, progress: dict, seconds: dict[str, float]
) -> dict[str, int]:
    """Run what the daemon runs on the morning after `date`; returns run outcomes counted, and
    adds each job's seconds to `seconds`."""
    morning = date + dt.timedelta(days=1)
    outcomes = {"success": 0, "failure": 0}
    attempts: Counter = Counter()

    def run(job_name: str, request: dg.RunRequest) -> None:
        started = time.perf_counter()
        key = request_key(date, job_name, request)
        attempts[key] += 1  # two alike requests of one morning are two requests
        tags = {LAUNCHED_BY_TAG: LAUNCHED_BY}
        _count(outcomes, run_once(instance, job_name, request, f"{key}:{attempts[key]}", tags))
        seconds[job_name] = seconds.get(job_name, 0.0) + time.perf_counter() - started

    started = time.perf_counter()
    landing = LandingZoneResource.from_settings()
    # The world has just written the day's documents, and a look takes only files that have
    # settled (a writer may still be busy with a fresher one); waiting that margin out makes the
    # day's documents this morning's, not the next morning's.
    time.sleep(LOCAL_SETTLE_NS / 1e9)
    # the documents that landed during the day, from where the sensor stopped the day before
    looks = look_until_done(instance, landing, progress.get("document_cursor"))
    seconds["document_intake"] = time.perf_counter() - started
    # Their OCR (Tesseract subprocesses) overlaps the morning's runs, which wait on dbt and on
    # single-threaded steps most of the time; the document runs still follow monitoring, as the
    # sensor's runs queue behind the schedules' in the daemon.
    with ThreadPoolExecutor(1, thread_name_prefix="document-reading") as reader:
        reading = reader.submit(_timed_read_ahead, looks.requests, landing)
        for schedule in sorted(defs.schedules or (), key=lambda s: int(s.cron_schedule.split()[1])):
            if not fires_on(schedule.cron_schedule, morning):
                continue
            tick = _tick_time(schedule.cron_schedule, morning)
            context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
            for request in schedule.evaluate_tick(context).run_requests or ():
                run(schedule.job_name, request)
        started = time.perf_counter()
        seconds["document_reading"] = reading.result()
    job = defs.resolve_job_def(document_intake.name)
    documents = execute_requests(instance, job, looks.requests)
    progress["document_cursor"] = looks.cursor
    outcomes["success"] += documents["success"]
    outcomes["failure"] += documents["failure"]
    seconds["document_intake"] += time.perf_counter() - started
    for request in _drift_requests(instance, progress):
        run(drift_retrain_sensor.job_name, request)
    run(BI_JOB, dg.RunRequest())
    return outcomes


def _timed_read_ahead(requests: list[dg.RunRequest], landing: LandingZoneResource) -> float:
    started = time.perf_counter()
    read_ahead(requests, landing, workers=2)
    return time.perf_counter() - started


def _tick_time(cron: str, day: dt.date) -> dt.datetime:
    minute, hour = (int(field) for field in cron.split()[:2])
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


def _count(outcomes: dict[str, int], success: bool) -> None:
    outcomes["success" if success else "failure"] += 1


def _drift_requests(instance: dg.DagsterInstance, progress: dict) -> list[dg.RunRequest]:
    context = dg.build_sensor_context(
        instance=instance,
        cursor=progress.get("drift_cursor"),
        resources={"duckdb": duckdb_resource()},
        definitions=defs,
    )
    result = drift_retrain_sensor.evaluate_tick(context)
    progress["drift_cursor"] = result.cursor
    return list(result.run_requests or ())


def day_line(report: DayReport, started: float, seconds: float) -> DayLine:
    """The day's figures, from the warehouse, the registry and the world's report."""
    since = dt.datetime.fromtimestamp(started, dt.UTC).replace(tzinfo=None)
    with connect(settings.warehouse_path(), read_only=True) as con:
        loaded, quarantined = con.execute(
            "select coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0) "
            "from raw.ingested_files where loaded_at >= ?",
            [since],
        ).fetchone()
        promoted = rolled_back = alerts = 0
        lifecycle: tuple[str, ...] = ()
        if table_exists(con, "monitoring", "deployment_transitions"):
            promoted, rolled_back = con.execute(
                "select count(*) filter (event = 'deployed'), count(*) filter (event = "
                "'rolled_back') from monitoring.deployment_transitions where recorded_at >= ?",
                [since],
            ).fetchone()
            lifecycle = tuple(
                f"{name.removeprefix('roi-')} v{version} {event}"
                + (f" ({share:.0%})" if event in ("started", "promoted", "advanced") else "")
                for name, version, event, share in con.execute(
                    "select model_name, challenger_version, case when event = 'rejected' and "
                    "from_stage is null then 'rejected by its gate' else event end, "
                    "challenger_share "
                    "from monitoring.deployment_transitions where recorded_at >= ? "
                    "and event <> 'held' order by model_name, recorded_at",
                    [since],
                ).fetchall()
            )
        if table_exists(con, "monitoring", "alerts"):
            alerts = con.execute(
                "select count(*) from monitoring.alerts where raised_at >= ?", [since]
            ).fetchone()[0]
        impact = daily_impact(con).filter(pl.col("impact_date") == report.date)
    versions = MlflowClient(settings.mlflow_tracking_uri()).search_model_versions()
    retrained = sum(1 for v in versions if v.creation_timestamp >= started * 1000)
    return DayLine(
        report.date,
        sum(report.rows.values()),
        int(loaded),
        int(quarantined),
        retrained,
        int(promoted),
        int(rolled_back),
        int(alerts),
        seconds,
        _rates(impact),
        lifecycle,
    )


def _rates(impact: pl.DataFrame) -> dict[str, float]:
    rates = {}
    for row in impact.iter_rows(named=True):
        if row["policy"] in ("product", "legacy") and row["metric"] in ("open_rate", "click_rate"):
            rates[f"{row['policy']}_{row['metric'].removesuffix('_rate')}"] = row["value"]
    return rates if len(rates) == 4 else {}


@contextlib.contextmanager
def console_to_log(log_path: Path) -> Iterator[TextIO]:
    """Send everything the runs print (Dagster's event log, dbt, MLflow), subprocesses included,
    to `log_path`, and yield the terminal for the day lines. Done on the file descriptors, by
    hand, because dbt runs as a subprocess that inherits them."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved[0]), "w", buffering=1)
    with log_path.open("a") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            terminal.close()


def live(days: int) -> int:
    """Advance the world until it has lived `days` days, the product running each of them."""
    world = default_world()
    if world.today() is None:
        print("The world has no history yet: run `make run` first.")
        return 2
    progress_path = world.state_dir / PROGRESS_FILE
    progress = _read(progress_path)
    failures = 0
    log_path = settings.data_dir() / "logs" / "live.log"
    print(f"Runs' logs: {log_path}", flush=True)
    with console_to_log(log_path) as terminal, dg.DagsterInstance.get() as instance:
        if orphans := fail_orphaned_runs(instance, "its process was killed; the day is run again"):
            print(f"{orphans} runs left unfinished by a killed process: failed", file=terminal)
        # The definitions, the libraries and the instance live as long as the process: out of
        # the cycle collector's reach, its collections walk only what the days create.
        gc.freeze()
        if _lived(world) > 0 and progress.get("completed") != str(world.today()):
            # a run stopped after the world wrote its day: finish that day's product runs
            failures += _live_day(instance, world, None, progress, progress_path, terminal)
        while _lived(world) < days:
            report = world.advance()
            failures += _live_day(instance, world, report, progress, progress_path, terminal)
    _print_impact()
    return 1 if failures else 0


def _live_day(
    instance: dg.DagsterInstance,
    world: World,
    report: DayReport | None,
    progress: dict,
    progress_path: Path,
    terminal: TextIO,
) -> int:
    started = time.time()
    cpu_started = _cpu_seconds()
    date = world.today()
    report = report or DayReport(date, {})
    seconds: dict[str, float] = {}
    outcomes = play_morning(instance, date, progress, seconds)
    wall = time.time() - started
    print(day_line(report, started, wall), file=terminal, flush=True)
    timing = {
        "date": str(date),
        "rows_landed": sum(report.rows.values()),
        "seconds": seconds,
        "wall_seconds": wall,
        "cpu_seconds": _cpu_seconds() - cpu_started,
        "load_average": os.getloadavg()[0],
    }
    with (progress_path.parent / TIMINGS_FILE).open("a") as timings:
        timings.write(json.dumps(timing) + "\n")
    progress["completed"] = str(date)
    _write(progress_path, progress)
    return outcomes["failure"]


def _cpu_seconds() -> float:
    """CPU used by this process and its finished subprocesses (dbt, Tesseract): on a shared
    machine, a fairer measure of a day's cost than its wall time."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _lived(world: World) -> int:
    return world.state().next_day - world.bootstrap_days


def _print_impact() -> None:
    with connect(settings.warehouse_path(), read_only=True) as con:
        impact = daily_impact(con)
    if impact.is_empty():
        print("No live day yet.")
        return
    days = live_days(impact)
    print(f"\nRealised business impact over {days} live days (same sends, expected rates):")
    with pl.Config(tbl_rows=40, tbl_hide_dataframe_shape=True, float_precision=4):
        print(uplift_table(impact))
    realised = impact.filter(pl.col("metric").str.ends_with("_realised"))
    if realised.height:
        summary = realised.group_by("metric").agg(
            ((pl.col("value") * pl.col("units")).sum() / pl.col("units").sum()).alias("rate")
        )
        for metric, rate in summary.sort("metric").iter_rows():
            print(f"landed {metric.removesuffix('_realised').replace('_', ' ')}: {rate:.2%}")


def _read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _write(path: Path, content: dict) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(json.dumps(content))
    temporary.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m roi_assets.simulator.live")
    parser.add_argument("--days", type=int, default=35, help="live days the world should reach")
    return live(parser.parse_args(argv).days)


if __name__ == "__main__":
    raise SystemExit(main())
