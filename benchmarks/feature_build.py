"""Feature-build benchmark: how fast dbt on DuckDB builds the feature tables, against pandas.

In a temporary data folder it simulates a world (`large` by default: 100,000 clients, a year,
more than ten million events), ingests the landing zone into `raw.*`, and times `dbt run` of the
project. Then, in the same run, it builds the same three feature tables in pandas from the raw
tables (`pandas_features.py`), times that, checks both give the same tables (row counts, column
sums, and every column of every row of a sample of clients), and prints the ratio of the two times.

    .venv/bin/python benchmarks/feature_build.py [--scale large|default|tiny] [--seed 7]

The checkout's `data/` and `dbt_project/target/` are left alone: dbt writes its manifest, logs and
run results into the temporary folder, which is deleted at the end (unless --keep-data).
"""

from __future__ import annotations

import argparse
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
import numpy as np
import pandas as pd
from machine import load_average, machine_description
from pandas_features import FeatureTables, Stopwatch, build_features, read_raw_tables

from roi_assets.ingestion.contracts import CONTRACTS
from roi_assets.ingestion.loader import ingest_source
from roi_assets.simulator import simulate_world, world_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"
HOLIDAYS_CSV = DBT_PROJECT_DIR / "seeds" / "us_holidays.csv"
FEATURE_TABLES = ("feat_client_daily", "feat_client_churn", "feat_email_engagement")
KEYS = {
    "feat_client_daily": ["client_id", "activity_date"],
    "feat_client_churn": ["client_id", "snapshot_date"],
    "feat_email_engagement": ["send_id"],
}
SAMPLE_CLIENTS = 300
SUM_TOLERANCE = 1e-6  # relative, for column sums over whole tables
ROW_TOLERANCE = 1e-9  # relative, for a float in one row of the sample


@dataclass
class Comparison:
    """How the pandas table agrees with dbt's."""

    table: str
    dbt_rows: int
    pandas_rows: int
    sums_disagreeing: list[str] = field(default_factory=list)
    columns_exact: list[str] = field(default_factory=list)
    columns_within_tolerance: dict[str, float] = field(default_factory=dict)  # max rel. diff
    columns_disagreeing: dict[str, str] = field(default_factory=dict)
    sample_rows: int = 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="large", choices=["tiny", "default", "large"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)

    data_dir = Path(tempfile.mkdtemp(prefix=f"roi_feature_build_{args.scale}_"))
    try:
        return run_benchmark(args.scale, args.seed, data_dir)
    finally:
        if args.keep_data:
            print(f"data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def run_benchmark(scale: str, seed: int, data_dir: Path) -> int:
    """Runs every phase in `data_dir`, prints the figures; 0 when pandas and dbt agree."""
    warehouse = data_dir / "warehouse.duckdb"
    env = {
        **os.environ,
        "ROI_DATA_DIR": str(data_dir),
        "ROI_WAREHOUSE_PATH": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    os.environ.update({k: env[k] for k in ("ROI_DATA_DIR", "ROI_WAREHOUSE_PATH")})
    print(f"{machine_description()}; pandas {pd.__version__}, DuckDB {duckdb.__version__}")
    print(f"scale={scale} seed={seed} data={data_dir} load average at start={load_average()}")

    # Simulation and ingestion run in a child process: their memory is gone before pandas starts,
    # and the peak memory of this process is then the pandas baseline's.
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        prepared = pool.submit(_simulate_and_ingest, scale, seed, data_dir).result()
    for phase, rows in (("simulate", "simulated_rows"), ("ingest", "raw_rows")):
        print(
            f"{phase + ':':9s} {prepared[f'{phase}_s']:.1f} s wall, "
            f"{prepared[f'{phase}_cpu_s']:.1f} s CPU, rows {prepared[rows]}"
        )

    dbt = _run_dbt(env, data_dir)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        feature_rows = {t: _count(con, f"features.{t}") for t in FEATURE_TABLES}
    total_rows = sum(feature_rows.values())
    print(
        f"dbt run:  {dbt['run_s']:.1f} s wall ({dbt['models_s']:.1f} s in models), "
        f"{dbt['run_cpu_s']:.1f} s CPU, peak RSS {dbt['run_peak_gib']:.1f} GiB; "
        f"dbt parse {dbt['parse_s']:.1f} s and dbt seed {dbt['seed_s']:.1f} s (not in the figure)"
    )
    for name, seconds in dbt["model_s"].items():
        print(f"  {name:32s} {seconds:7.1f} s")
    for table, rows in feature_rows.items():
        print(f"  features.{table:24s} {rows:>12,} rows")
    print(f"  dbt: {total_rows / dbt['run_s']:,.0f} feature rows/s (wall time of `dbt run`)")

    tables, pandas = _build_in_pandas(warehouse)
    print(
        f"pandas build: {pandas['build_s']:.1f} s wall, {pandas['build_cpu_s']:.1f} s CPU, "
        f"peak RSS {pandas['peak_rss_gib']:.1f} GiB (reading the raw tables included)"
    )
    for name, seconds in pandas["steps_s"].items():
        peak = pandas["steps_peak_rss_gib"][name]
        print(f"  {name:32s} {seconds:7.1f} s   (peak RSS so far {peak:.1f} GiB)")
    print(f"  pandas: {total_rows / pandas['build_s']:,.0f} feature rows/s")

    with duckdb.connect(str(warehouse), read_only=True) as con:
        comparisons = [
            compare(con, table, getattr(tables, table), seed) for table in FEATURE_TABLES
        ]
    agree = all([_report(c) for c in comparisons])  # a list: every table is reported
    ratio = pandas["build_s"] / dbt["run_s"]
    print(
        f"ratio pandas / dbt run = {pandas['build_s']:.1f} s / {dbt['run_s']:.1f} s = {ratio:.3f}"
    )
    print(f"load average at end={load_average()}")
    figures = {
        "scale": scale,
        "seed": seed,
        **prepared,
        "dbt": dbt,
        "feature_rows": feature_rows,
        "pandas": pandas,
        "ratio_pandas_over_dbt_run": ratio,
        "tables_agree": agree,
    }
    print("RESULT " + json.dumps(figures))
    return 0 if agree else 1


def _build_in_pandas(warehouse: Path) -> tuple[FeatureTables, dict]:
    """Reads `raw.*` into pandas (not timed), then times the pandas build of the features."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        start = time.perf_counter()
        raw = read_raw_tables(con, HOLIDAYS_CSV)
        read_s = time.perf_counter() - start
    print(f"pandas: read the raw tables in {read_s:.1f} s (not timed in the figure)")
    stopwatch = Stopwatch()
    start, cpu_start = time.perf_counter(), time.process_time()
    tables = build_features(raw, stopwatch)
    build_s, build_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    return tables, {
        "read_s": read_s,
        "build_s": build_s,
        "build_cpu_s": build_cpu_s,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "steps_s": stopwatch.seconds,
        "steps_peak_rss_gib": stopwatch.peak_rss_gib,
    }


def _simulate_and_ingest(scale: str, seed: int, data_dir: Path) -> dict:
    landing = data_dir / "landing"
    start, cpu_start = time.perf_counter(), time.process_time()
    result = simulate_world(world_config(scale, seed), landing)
    simulate_s, simulate_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    simulated_rows = dict(result.row_counts)
    del result

    start, cpu_start = time.perf_counter(), time.process_time()
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        con.execute("set enable_progress_bar = false")
        raw_rows = {
            contract.table: ingest_source(con, landing, contract).rows_loaded
            for contract in CONTRACTS.values()
        }
    ingest_s, ingest_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "simulate_s": simulate_s,
        "simulate_cpu_s": simulate_cpu_s,
        "ingest_cpu_s": ingest_cpu_s,
        "simulated_rows": simulated_rows,
        "ingest_s": ingest_s,
        "raw_rows": raw_rows,
    }


def _run_dbt(env: dict[str, str], data_dir: Path) -> dict:
    """dbt parse and seed (the us_holidays seed the engagement model joins), then the timed
    `dbt run`; manifests, logs and run results go to the temporary folder."""
    target = data_dir / "dbt_target"
    common = ["--profiles-dir", ".", "--target-path", str(target), "--log-path", str(data_dir)]
    parse_s, _, _ = _timed(["parse", *common], env, data_dir / "dbt_parse.log")
    seed_s, _, _ = _timed(["seed", *common], env, data_dir / "dbt_seed.log")
    run_s, run_cpu_s, peak_kib = _timed(["run", *common], env, data_dir / "dbt_run.log")
    results = json.loads((target / "run_results.json").read_text())["results"]
    model_s = {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results}
    return {
        "parse_s": parse_s,
        "seed_s": seed_s,
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


def compare(
    con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, seed: int
) -> Comparison:
    """Row counts, each column's sum (or distinct count) over the whole table, and each column
    of every row of a random sample of clients."""
    columns = [row[0] for row in con.sql(f"describe features.{table}").fetchall()]
    result = Comparison(table, _count(con, f"features.{table}"), len(frame))
    missing = [c for c in columns if c not in frame.columns]
    for column in missing:
        result.columns_disagreeing[column] = "missing in pandas"
    columns = [c for c in columns if c in frame.columns]

    aggregates = ", ".join(_aggregate_sql(c, frame[c]) for c in columns)
    summary = con.sql(f"select {aggregates} from features.{table}").fetchone()
    for i, column in enumerate(columns):
        expected = summary[2 * i : 2 * i + 2]
        actual = _aggregate(frame[column])
        if not all(_close(a, e, SUM_TOLERANCE) for a, e in zip(actual, expected, strict=True)):
            result.sums_disagreeing.append(f"{column} (dbt {expected}, pandas {actual})")

    clients = con.sql(f"select distinct client_id from features.{table} order by 1").fetchnumpy()
    ids = clients["client_id"]
    rng = np.random.default_rng(seed)
    sample = rng.choice(ids, size=min(SAMPLE_CLIENTS, len(ids)), replace=False)
    con.register("sample_clients", pd.DataFrame({"client_id": sample}))
    keys = KEYS[table]
    expected = con.sql(
        f"select * from features.{table} where client_id in (select client_id from sample_clients)"
        f" order by {', '.join(keys)}"
    ).df()
    con.unregister("sample_clients")
    actual = frame[frame["client_id"].isin(sample)]
    actual = actual.assign(client_id=actual["client_id"].astype(str)).sort_values(keys)
    result.sample_rows = len(expected)
    if len(actual) != len(expected):
        result.columns_disagreeing["(rows)"] = (
            f"sample has {len(expected)} dbt rows, {len(actual)} pandas"
        )
        return result
    for column in columns:
        verdict = _compare_column(expected[column], actual[column])
        if verdict == "exact":
            result.columns_exact.append(column)
        elif isinstance(verdict, float):
            result.columns_within_tolerance[column] = verdict
        else:
            result.columns_disagreeing[column] = verdict
    return result


def _aggregate_sql(column: str, values: pd.Series) -> str:
    """Non-null count, and the sum of a number (true count of a flag) or the distinct count."""
    if _is_number(values):
        return f"count({column}), sum(cast({column} as double))"
    return f"count({column}), count(distinct {column})"


def _aggregate(values: pd.Series) -> tuple[float, float]:
    if _is_number(values):
        return float(values.count()), float(values.astype("float64").sum())
    return float(values.count()), float(values.nunique())


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def _close(actual: float, expected: float | None, tolerance: float) -> bool:
    expected = 0.0 if expected is None else float(expected)
    return abs(actual - expected) <= tolerance * max(abs(expected), abs(actual), 1e-12)


def _compare_column(expected: pd.Series, actual: pd.Series) -> str | float:
    """'exact', the max relative difference of floats within ROW_TOLERANCE, or what differs."""
    if _is_number(actual):
        e = expected.astype("float64").to_numpy()
        a = actual.astype("float64").to_numpy()
        if np.array_equal(e, a, equal_nan=True):
            return "exact"
        nan_differs = np.isnan(e) != np.isnan(a)
        both = ~np.isnan(e) & ~np.isnan(a)
        relative = np.abs(a[both] - e[both]) / np.maximum(np.abs(e[both]), 1e-12)
        worst = float(relative.max()) if relative.size else 0.0
        if nan_differs.any() or worst > ROW_TOLERANCE:
            wrong = int(nan_differs.sum() + (relative > ROW_TOLERANCE).sum())
            return f"{wrong} of {len(e)} rows differ (max relative difference {worst:.3g})"
        return worst
    if pd.api.types.is_datetime64_any_dtype(actual):
        e = expected.to_numpy(dtype="datetime64[us]")
        a = actual.to_numpy(dtype="datetime64[us]")
    else:
        e = expected.astype(str).to_numpy()
        a = actual.astype(str).to_numpy()
    wrong = int((e != a).sum())
    return "exact" if wrong == 0 else f"{wrong} of {len(e)} rows differ"


def _report(c: Comparison) -> bool:
    agree = c.dbt_rows == c.pandas_rows and not c.sums_disagreeing and not c.columns_disagreeing
    print(
        f"{c.table}: rows dbt {c.dbt_rows:,} / pandas {c.pandas_rows:,}; sample of "
        f"{c.sample_rows:,} rows: {len(c.columns_exact)} columns exact"
    )
    for column, worst in c.columns_within_tolerance.items():
        print(f"  {column}: within {ROW_TOLERANCE:g} (max relative difference {worst:.2g})")
    for column, verdict in c.columns_disagreeing.items():
        print(f"  DIFFERS {column}: {verdict}")
    for line in c.sums_disagreeing:
        print(f"  SUM DIFFERS {line}")
    return agree


if __name__ == "__main__":
    sys.exit(main())
