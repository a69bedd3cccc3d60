"""Feature-build benchmark: dbt on DuckDB against a polars reference, full and daily builds.

In a temporary data folder it bootstraps a world (`large` by default: 100,000 clients, a year,
more than ten million events), ingests every landed day but the last into `raw.*`, and times a
full `dbt run` of the project under the settings' DuckDB memory limit. It then ingests the last
day and times the incremental build of that day (`dbt run --vars {min_date, max_date}`), as the
daily schedule runs it. In the same run it builds the same three feature tables with polars
(lazy queries, streaming engine, `polars_features.py`) from the raw tables exported to Parquet,
times that in a child process of its own (its peak memory is polars'), and checks that both give
the same tables: row counts, column sums, and every column of every row joined on the table's
keys (floats within a relative 1e-9). It prints the ratio of the two times and the daily build's
share of the full build.

    .venv/bin/python benchmarks/feature_build.py [--scale large|xlarge|default|tiny] [--seed 7]
        [--days N]          # a history of N days instead of the scale's (a shorter xlarge)
        [--memory-limit 4GB]  # DuckDB's memory_limit for dbt (ROI_DUCKDB_MEMORY_LIMIT)
        [--landing DIR]     # a landing zone the world already wrote (its bootstrap not timed)

The checkout's `data/` and `dbt_project/target/` are left alone: dbt writes its manifest, logs and
run results into the temporary folder, which is deleted at the end (unless --keep-data).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import duckdb
import polars as pl
from machine import load_average, machine_description
from polars_features import FEATURE_TABLES, Stopwatch, build_features, export_raw_tables

from roi_assets import settings
from roi_assets.ingestion.contracts import CONTRACTS
from roi_assets.ingestion.daily_files import landing_date
from roi_assets.ingestion.loader import ingest_days, local_landed_files
from roi_assets.simulator import SCALES, WorldConfig
from roi_assets.simulator.environment import World

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"
HOLIDAYS_CSV = DBT_PROJECT_DIR / "seeds" / "us_holidays.csv"
KEYS = {
    "feat_client_daily": ["client_id", "activity_date"],
    "feat_client_churn": ["client_id", "snapshot_date"],
    "feat_email_engagement": ["send_id"],
}
SUM_TOLERANCE = 1e-6  # relative, for column sums over whole tables
ROW_TOLERANCE = 1e-9  # relative, for a float in one row
NUMERIC_TYPES = (
    "DOUBLE",
    "FLOAT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "SMALLINT",
    "BOOLEAN",
    "DECIMAL",
)


@dataclass
class Comparison:
    """How the polars table agrees with dbt's."""

    table: str
    dbt_rows: int
    polars_rows: int
    only_in_dbt: int = 0
    only_in_polars: int = 0
    sums_disagreeing: list[str] = field(default_factory=list)
    columns_exact: list[str] = field(default_factory=list)
    columns_within_tolerance: dict[str, float] = field(default_factory=dict)  # max rel. diff
    columns_disagreeing: dict[str, str] = field(default_factory=dict)

    @property
    def agree(self) -> bool:
        return (
            self.dbt_rows == self.polars_rows
            and not (self.only_in_dbt or self.only_in_polars)
            and not self.sums_disagreeing
            and not self.columns_disagreeing
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="large", choices=sorted(SCALES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=None, help="history length (the scale's)")
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory_limit for dbt")
    parser.add_argument("--landing", type=Path, default=None, help="an existing landing zone")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)

    data_dir = Path(tempfile.mkdtemp(prefix=f"roi_feature_build_{args.scale}_"))
    try:
        return run_benchmark(
            args.scale, args.seed, data_dir, args.days, args.memory_limit, args.landing
        )
    finally:
        if args.keep_data:
            print(f"data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def world_of(scale: str, seed: int, days: int | None) -> WorldConfig:
    """The scale's world, its history cut to `days` when given."""
    size = SCALES[scale] if days is None else dataclasses.replace(SCALES[scale], n_days=days)
    return WorldConfig(seed=seed, scale=size)


def run_benchmark(
    scale: str,
    seed: int,
    data_dir: Path,
    days: int | None = None,
    memory_limit: str | None = None,
    landing: Path | None = None,
) -> int:
    """Runs every phase in `data_dir`, prints the figures; 0 when polars and dbt agree."""
    warehouse = data_dir / "warehouse.duckdb"
    overrides = {"ROI_DATA_DIR": str(data_dir), "ROI_WAREHOUSE_PATH": str(warehouse)}
    if memory_limit:
        overrides[settings.ENV_DUCKDB_MEMORY_LIMIT] = memory_limit
    os.environ.update(overrides)
    env = {**os.environ, **settings.dbt_environment(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    world = world_of(scale, seed, days)
    print(f"{machine_description()}; polars {pl.__version__}, DuckDB {duckdb.__version__}")
    print(
        f"scale={scale} ({world.scale.n_clients:,} clients x {world.scale.n_days} days) "
        f"seed={seed} data={data_dir} DuckDB memory_limit={settings.duckdb_memory_limit()} "
        f"load average at start={load_average()}"
    )

    # The world and the ingestion run in a child process: their memory is gone before the
    # builds start, and each build's peak memory is measured in a process of its own.
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        prepared = pool.submit(_bootstrap_and_ingest, world, data_dir, landing).result()
    last_day = dt.date.fromisoformat(prepared["last_day"])
    if landing is None:
        print(
            f"bootstrap: {prepared['bootstrap_s']:.1f} s wall, {prepared['bootstrap_cpu_s']:.1f} "
            f"s CPU ({prepared['bootstrap_s'] / world.scale.n_days:.2f} s a day), peak RSS "
            f"{prepared['bootstrap_peak_gib']:.1f} GiB, rows {prepared['landed_rows']}"
        )
    else:
        print(f"bootstrap: the world {landing} already wrote (not timed)")
    print(
        f"ingest:    {prepared['ingest_s']:.1f} s wall, {prepared['ingest_cpu_s']:.1f} s CPU, "
        f"every landed day before {last_day}"
    )

    dbt = _run_dbt_full(env, data_dir)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        feature_rows = {t: _count(con, f"features.{t}") for t in FEATURE_TABLES}
    total_rows = sum(feature_rows.values())
    print(
        f"dbt run (full): {dbt['run_s']:.1f} s wall ({dbt['models_s']:.1f} s in models), "
        f"{dbt['run_cpu_s']:.1f} s CPU, peak RSS {dbt['run_peak_gib']:.2f} GiB; dbt parse "
        f"{dbt['parse_s']:.1f} s and dbt seed {dbt['seed_s']:.1f} s (not in the figure)"
    )
    for name, seconds in dbt["model_s"].items():
        print(f"  {name:32s} {seconds:7.1f} s")
    for table, rows in feature_rows.items():
        print(f"  features.{table:24s} {rows:>12,} rows")

    daily = _run_dbt_daily(env, data_dir, last_day)
    daily_share = daily["run_s"] / dbt["run_s"]
    print(
        f"daily build of {last_day}: ingest {daily['ingest_s']:.1f} s; dbt run --vars "
        f"{daily['run_s']:.1f} s wall ({daily['models_s']:.1f} s in models), "
        f"{daily['run_cpu_s']:.1f} s CPU, peak RSS {daily['run_peak_gib']:.2f} GiB"
    )
    print(
        f"ratio daily / full dbt run = {daily['run_s']:.1f} s / {dbt['run_s']:.1f} s = "
        f"{daily_share:.4f} (models alone: {daily['models_s'] / dbt['models_s']:.4f})"
    )

    with duckdb.connect(str(warehouse), read_only=True) as con:
        raw = export_raw_tables(con, data_dir / "raw_parquet")
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        paths, polars = pool.submit(_build_with_polars, raw, data_dir / "polars", last_day).result()
    print(
        f"polars build: {polars['build_s']:.1f} s wall, {polars['build_cpu_s']:.1f} s CPU, "
        f"peak RSS {polars['peak_rss_gib']:.2f} GiB (reading raw Parquet and writing every "
        "table to Parquet included)"
    )
    for name, seconds in polars["steps_s"].items():
        peak = polars["steps_peak_rss_gib"][name]
        print(f"  {name:32s} {seconds:7.1f} s   (peak RSS so far {peak:.2f} GiB)")

    with duckdb.connect(str(warehouse), read_only=True, config=settings.duckdb_config()) as con:
        comparisons = [compare(con, table, paths[table]) for table in FEATURE_TABLES]
    agree = all([_report(c) for c in comparisons])  # a list: every table is reported
    ratio = dbt["run_s"] / polars["build_s"]
    print(
        f"ratio dbt run / polars = {dbt['run_s']:.1f} s / {polars['build_s']:.1f} s = "
        f"{ratio:.3f} (CPU {dbt['run_cpu_s'] / polars['build_cpu_s']:.3f}); "
        f"feature rows/s: dbt {total_rows / dbt['run_s']:,.0f}, "
        f"polars {total_rows / polars['build_s']:,.0f}"
    )
    print(f"load average at end={load_average()}")
    figures = {
        "scale": scale,
        "n_clients": world.scale.n_clients,
        "n_days": world.scale.n_days,
        "seed": seed,
        "memory_limit": settings.duckdb_memory_limit(),
        **prepared,
        "dbt": dbt,
        "daily": daily,
        "feature_rows": feature_rows,
        "polars": polars,
        "ratio_dbt_over_polars": ratio,
        "ratio_daily_over_full": daily_share,
        "tables_agree": agree,
    }
    print("RESULT " + json.dumps(figures, default=str))
    return 0 if agree else 1


def _bootstrap_and_ingest(world: WorldConfig, data_dir: Path, landing: Path | None) -> dict:
    """Bootstraps the world's history into the landing zone (truth into a file of its own),
    unless `landing` holds one already, then ingests every landed day but the last."""
    landed: dict[str, int] = {}
    bootstrap_s = bootstrap_cpu_s = bootstrap_peak = 0.0
    if landing is None:
        landing = data_dir / "landing"
        start, cpu_start = time.perf_counter(), time.process_time()
        truth = data_dir / "world_truth.duckdb"
        reports = World(world, landing, data_dir / "world", truth).bootstrap()
        bootstrap_s, bootstrap_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
        bootstrap_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        for report in reports:
            for source, rows in report.rows.items():
                landed[source] = landed.get(source, 0) + rows
    (data_dir / "landing_used").write_text(str(landing))
    last_day = max(max(_landed_days(landing, c)[1]) for c in CONTRACTS.values())
    start, cpu_start = time.perf_counter(), time.process_time()
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), config=settings.duckdb_config()) as con:
        con.execute("set enable_progress_bar = false")
        for contract in CONTRACTS.values():
            files, days = _landed_days(landing, contract)
            ingest_days(con, contract, files, [d for d in days if d < last_day])
    return {
        "bootstrap_s": bootstrap_s,
        "bootstrap_cpu_s": bootstrap_cpu_s,
        "bootstrap_peak_gib": bootstrap_peak,
        "landed_rows": landed,
        "ingest_s": time.perf_counter() - start,
        "ingest_cpu_s": time.process_time() - cpu_start,
        "last_day": last_day.isoformat(),
    }


def _landed_days(landing: Path, contract) -> tuple[list, list[dt.date]]:
    files = list(local_landed_files(landing, contract))
    days = sorted({d for name, _ in files if (d := landing_date(name, contract.source))})
    return files, days


def _build_with_polars(
    raw: dict[str, Path], out: Path, days_until: dt.date
) -> tuple[dict[str, Path], dict]:
    """The polars build, timed in this (child) process, whose peak memory is polars' own."""
    stopwatch = Stopwatch()
    start, cpu_start = time.perf_counter(), time.process_time()
    paths = build_features(raw, HOLIDAYS_CSV, out, stopwatch, days_until=days_until)
    return paths, {
        "build_s": time.perf_counter() - start,
        # polars' threads are the process's: process_time counts them all
        "build_cpu_s": time.process_time() - cpu_start,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "steps_s": stopwatch.seconds,
        "steps_peak_rss_gib": stopwatch.peak_rss_gib,
    }


def _dbt_common(data_dir: Path) -> list[str]:
    target = data_dir / "dbt_target"
    return ["--profiles-dir", ".", "--target-path", str(target), "--log-path", str(data_dir)]


# the Parquet exports for a Dask cluster are built on demand, not by the feature build
NOT_IN_THE_BUILD = ["--exclude", "tag:export"]


def _run_dbt_full(env: dict[str, str], data_dir: Path) -> dict:
    """dbt parse and seed (the us_holidays seed the engagement model joins), then the timed
    `dbt run` of every model from all of raw."""
    common = _dbt_common(data_dir)
    parse_s, _, _ = _timed(["parse", *common], env, data_dir / "dbt_parse.log")
    seed_s, _, _ = _timed(["seed", *common], env, data_dir / "dbt_seed.log")
    return {
        "parse_s": parse_s,
        "seed_s": seed_s,
        **_timed_run(["run", *NOT_IN_THE_BUILD, *common], env, data_dir, "dbt_run_full"),
    }


def _run_dbt_daily(env: dict[str, str], data_dir: Path, day: dt.date) -> dict:
    """Ingests the last landed day, then times the incremental build of that day."""
    landing = Path((data_dir / "landing_used").read_text())
    start = time.perf_counter()
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), config=settings.duckdb_config()) as con:
        con.execute("set enable_progress_bar = false")
        for contract in CONTRACTS.values():
            files, _ = _landed_days(landing, contract)
            ingest_days(con, contract, files, [day])
    ingest_s = time.perf_counter() - start
    window = {"min_date": day.isoformat(), "max_date": (day + dt.timedelta(days=1)).isoformat()}
    arguments = ["run", "--vars", json.dumps(window), *NOT_IN_THE_BUILD, *_dbt_common(data_dir)]
    return {"ingest_s": ingest_s, **_timed_run(arguments, env, data_dir, "dbt_run_daily")}


def _timed_run(arguments: list[str], env: dict[str, str], data_dir: Path, name: str) -> dict:
    run_s, run_cpu_s, peak_kib = _timed(arguments, env, data_dir / f"{name}.log")
    results = json.loads((data_dir / "dbt_target" / "run_results.json").read_text())["results"]
    model_s = {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results}
    return {
        "run_s": run_s,
        "run_cpu_s": run_cpu_s,
        "run_peak_gib": peak_kib / 2**20,
        "models_s": sum(model_s.values()),
        "model_s": model_s,
    }


def _timed(arguments: list[str], env: dict[str, str], log: Path) -> tuple[float, float, int]:
    """Wall time, CPU time and peak RSS (KiB) of one dbt command; its output goes to `log`."""
    start = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(DBT), *arguments], cwd=DBT_PROJECT_DIR, env=env, stdout=out, stderr=out
        )
        # wait4 gives this child's own resource usage, so its peak memory is DuckDB's
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        print(log.read_text()[-5000:])
        raise RuntimeError(f"dbt {arguments[0]} failed; see above")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.sql(f"select count(*) from {table}").fetchone()[0]


# ---------------------------------------------------------------------------------------------
# comparison


def compare(con: duckdb.DuckDBPyConnection, table: str, parquet: Path) -> Comparison:
    """Row counts, each column's non-null count and sum (or distinct count) over the whole
    table, and every column of every row, the two tables joined on the table's keys."""
    dbt_columns = {
        name: kind for name, kind, *_ in con.sql(f"describe features.{table}").fetchall()
    }
    polars = f"read_parquet('{parquet}')"
    polars_columns = {name for name, *_ in con.sql(f"describe select * from {polars}").fetchall()}
    result = Comparison(table, _count(con, f"features.{table}"), _count(con, polars))
    for column in dbt_columns.keys() - polars_columns:
        result.columns_disagreeing[column] = "missing in polars"
    columns = [c for c in dbt_columns if c in polars_columns]
    numeric = {c for c in columns if dbt_columns[c].startswith(NUMERIC_TYPES)}

    def summary(relation: str) -> tuple:
        aggregates = ", ".join(
            f"count({c}), sum(cast({c} as double))" if c in numeric
            else f"count({c}), count(distinct {c})"
            for c in columns
        )  # fmt: skip
        return con.sql(f"select {aggregates} from {relation}").fetchone()

    expected, actual = summary(f"features.{table}"), summary(polars)
    for i, column in enumerate(columns):
        pairs = zip(actual[2 * i : 2 * i + 2], expected[2 * i : 2 * i + 2], strict=True)
        if not all(_close(a, e, SUM_TOLERANCE) for a, e in pairs):
            result.sums_disagreeing.append(
                f"{column} (dbt {expected[2 * i : 2 * i + 2]}, polars {actual[2 * i : 2 * i + 2]})"
            )

    keys = KEYS[table]
    on = " and ".join(f"d.{k} = p.{k}" for k in keys)
    checks = [
        f"count(*) filter (where p.{keys[0]} is null)",
        f"count(*) filter (where d.{keys[0]} is null)",
    ]
    for c in columns:
        if c in numeric:
            e, a = f"cast(d.{c} as double)", f"cast(p.{c} as double)"
            relative = f"abs({a} - {e}) / greatest(abs({e}), 1e-12)"
            checks.append(
                f"count(*) filter (where {e} is distinct from {a} and "
                f"(({e} is null) <> ({a} is null) or {relative} > {ROW_TOLERANCE}))"
            )
            checks.append(f"coalesce(max({relative}) filter (where {e} <> {a}), 0)")
        else:
            checks.append(f"count(*) filter (where d.{c} is distinct from p.{c})")
            checks.append("0")
    found = con.sql(
        f"select {', '.join(checks)} from features.{table} as d full outer join {polars} as p"
        f" on {on}"
    ).fetchone()
    result.only_in_dbt, result.only_in_polars = found[0], found[1]
    for i, column in enumerate(columns):
        wrong, worst = found[2 + 2 * i], found[3 + 2 * i]
        if wrong:
            result.columns_disagreeing[column] = (
                f"{wrong} rows differ (max relative difference {worst:.3g})"
            )
        elif worst:
            result.columns_within_tolerance[column] = worst
        else:
            result.columns_exact.append(column)
    return result


def _close(actual: float | None, expected: float | None, tolerance: float) -> bool:
    expected = 0.0 if expected is None else float(expected)
    actual = 0.0 if actual is None else float(actual)
    return abs(actual - expected) <= tolerance * max(abs(expected), abs(actual), 1e-12)


def _report(c: Comparison) -> bool:
    print(
        f"{c.table}: rows dbt {c.dbt_rows:,} / polars {c.polars_rows:,} (only in dbt "
        f"{c.only_in_dbt:,}, only in polars {c.only_in_polars:,}); every row compared: "
        f"{len(c.columns_exact)} columns exact"
    )
    for column, worst in c.columns_within_tolerance.items():
        print(f"  {column}: within {ROW_TOLERANCE:g} (max relative difference {worst:.2g})")
    for column, verdict in c.columns_disagreeing.items():
        print(f"  DIFFERS {column}: {verdict}")
    for line in c.sums_disagreeing:
        print(f"  SUM DIFFERS {line}")
    return c.agree


if __name__ == "__main__":
    sys.exit(main())
