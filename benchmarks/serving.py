"""Serving API latency and throughput, next to MLflow's scoring server on the same model.

Builds a world in a temporary folder (simulator, ingestion, dbt), trains the engagement pipeline
with the specification's middle grid point (200 trees of depth 6), registers it in a private MLflow
store as roi-engagement-open@champion (logged as the product logs it, compiled scorer included)
and publishes a BI copy with marts.engagement_scores scored by it. Then, on the same machine in the
same run:

0. the scorer alone, in-process: one row at a time through the compiled scorer (from the request's
   values) and through the logged pipeline (a one-row frame); then batch scoring of 1 M rows
   (the feature table's rows drawn with replacement) through both, and through the compiled form
   of the model the product serves (the grid point its search chose on the default world, 100
   trees of depth 4), on which the batch goal is judged;
1. in-process (FastAPI TestClient): p50/p99 per kind of request — a known client answered from the
   mart (batch), one email's features scored by the model (model), the same features again (cache);
2. over HTTP on loopback, one server at a time (the other stopped, so neither shares the cores
   with the other's idle threads): our API in a uvicorn subprocess, then
   `mlflow models serve --env-manager local -m models:/roi-engagement-open@champion` scoring the
   same one-row payload on /invocations; each first one request at a time, then under
   sustained concurrent load for `--seconds` per target (throughput, latency under load, errors).

Goals (issue 19), judged at the end: compiled single row p99 <= 1 ms in-process; a computed score
p99 <= 5 ms over HTTP one client at a time; with 16 concurrent clients >= 10x the throughput of
`mlflow models serve` on computed scores, with no error; batch scoring of the served model
>= 1 M rows/s.

Both servers run one uvicorn worker. The load generator is a small asyncio + httpx loop (no load
tool such as wrk, hey or oha is installed on the machine); it shares the CPUs with the server it
measures, for both servers alike. Exit status 1 when any request failed.

    .venv/bin/python benchmarks/serving.py [--scale tiny|default] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx
import mlflow
import numpy as np
import polars as pl
from feature_warehouse import build_feature_warehouse, read_feature_table
from machine import load_average, machine_description

from roi_assets.compiled_scoring import compile_model, load_compiled, log_compiled
from roi_assets.engagement.features import ENGAGEMENT_FEATURES, HEADLINE_TARGET
from roi_assets.engagement.model import predict_proba, train_engagement_model
from roi_assets.engagement.scoring import scoring_rows
from roi_assets.resources.tracking import (
    configure_tracking,
    log_sklearn_model,
    promote_to_champion,
    registered_version,
)

MODEL_NAME = "roi-engagement-open"
MIDDLE_GRID_POINT = {
    "classifier__n_estimators": [200],
    "classifier__max_depth": [6],
    "classifier__learning_rate": [0.1],
}
# The point the product's grid search chose on the default world, for both targets (100 trees of
# depth 4; docs/benchmarks.md, "Engagement training time"): the model `make run` serves.
SEARCH_CHOICE = {
    "classifier__n_estimators": [100],
    "classifier__max_depth": [4],
    "classifier__learning_rate": [0.05],
}
SCORE_PATH = "/v1/engagement/score"
CONCURRENCY = 16
GOAL_IN_PROCESS_P99_MS = 1.0
GOAL_HTTP_P99_MS = 5.0
GOAL_THROUGHPUT_RATIO = 10.0
GOAL_BATCH_ROWS_PER_S = 1_000_000
BATCH_ROWS = 1_000_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_world(scale: str, seed: int, data_dir: Path) -> tuple[pl.DataFrame, str]:
    """The feature table, a registered champion, and a BI copy with its batch scores."""
    warehouse = build_feature_warehouse(scale, seed, data_dir)
    features = read_feature_table(warehouse, "feat_email_engagement")
    trained = train_engagement_model(features, HEADLINE_TARGET, param_grid=MIDDLE_GRID_POINT)
    uri = f"sqlite:///{data_dir / 'mlflow.db'}"
    configure_tracking("serving-benchmark", tracking_uri=uri)
    with mlflow.start_run():
        info = log_sklearn_model(
            trained.estimator,
            name="model",
            input_example=features.head(5).to_pandas(),
            registered_model_name=MODEL_NAME,
        )
        log_compiled(info, trained.estimator)
    version = registered_version(info)
    promote_to_champion(MODEL_NAME, version)
    scoring = read_feature_table(warehouse, "feat_email_scoring")
    rows = scoring_rows(scoring, scoring["client_id"])
    scores = rows.select("client_id").with_columns(
        pl.Series("p_open", predict_proba(trained.estimator, rows)),
        pl.lit(version).alias("p_open_model_version"),
        pl.lit(None, dtype=pl.Float64).alias("p_click"),
        pl.lit(version).alias("model_version"),
        pl.lit(dt.datetime.now()).alias("scored_at"),
    )
    with duckdb.connect(str(data_dir / "bi.duckdb")) as con:
        con.execute("create schema marts")
        con.execute("create schema features")
        con.register("scores", scores.to_arrow())
        con.execute("create table marts.engagement_scores as select * from scores")
        con.register("features_frame", features.to_arrow())
        con.execute("create table features.feat_email_engagement as select * from features_frame")
    return features, uri


def feature_payload(row: dict) -> dict:
    return {k: float(v) if isinstance(v, bool | int) else v for k, v in row.items()}


def mlflow_payload(row: dict) -> dict:
    """One row in MLflow's dataframe_split format, every column the logged signature names."""
    values = [v.isoformat() if isinstance(v, dt.datetime | dt.date) else v for v in row.values()]
    return {"dataframe_split": {"columns": list(row), "data": [values]}}


class Requests:
    """The request bodies of each kind, drawn from the world's rows."""

    def __init__(self, features: pl.DataFrame, scored_clients: list[str], seed: int) -> None:
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(features))
        shuffled = features[order]
        self.clients = sorted(scored_clients)  # the mart's: active clients, not churned ones
        self.model_rows = [
            {"client_id": client_id, "features": feature_payload(row)}
            for client_id, row in zip(
                shuffled["client_id"],
                shuffled.select(ENGAGEMENT_FEATURES).iter_rows(named=True),
                strict=True,
            )
        ]
        self.mlflow_rows = [mlflow_payload(row) for row in shuffled.iter_rows(named=True)]

    def batch(self, i: int) -> dict:
        return {"client_id": self.clients[i % len(self.clients)]}

    def model(self, i: int) -> dict:
        return self.model_rows[i % len(self.model_rows)]

    def cached(self, i: int) -> dict:
        return self.model_rows[0]

    def mlflow(self, i: int) -> dict:
        return self.mlflow_rows[i % len(self.mlflow_rows)]


def percentiles(ms: list[float]) -> tuple[float, float]:
    p50, p99 = np.percentile(ms, [50, 99])
    return float(p50), float(p99)


def sequential_ms(post, make_body, n: int, offset: int = 0) -> tuple[list[float], int, dict]:
    """Latencies (ms) of n requests one after the other, the errors, and the answers' sources."""
    ms, errors, sources = [], 0, {}
    for i in range(n):
        body = make_body(offset + i)
        start = time.perf_counter()
        response = post(body)
        ms.append((time.perf_counter() - start) * 1000.0)
        if response.status_code != 200:
            errors += 1
        elif "source" in (answer := response.json()):
            sources[answer["source"]] = sources.get(answer["source"], 0) + 1
    return ms, errors, sources


async def sustained_load(
    url: str, headers: dict, make_body, seconds: float, concurrency: int, offset: int
) -> dict:
    """`concurrency` workers posting back to back for `seconds`; counts, errors and latencies."""
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    errors = 0
    counter = iter(range(offset, 10**9))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30.0) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                body = make_body(next(counter))
                start = time.perf_counter()
                try:
                    response = await client.post(url, json=body)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - start) * 1000.0)
                errors += not ok

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    p50, p99 = percentiles(latencies)
    return {
        "rps": len(latencies) / elapsed,
        "p50": p50,
        "p99": p99,
        "n": len(latencies),
        "errors": errors,
    }


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before answering")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def report(label: str, ms: list[float], errors: int, extra: str = "") -> tuple[float, float]:
    p50, p99 = percentiles(ms)
    print(
        f"  {label:34s} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  n={len(ms)} errors={errors} {extra}"
    )
    return p50, p99


def timed_ms(function, items: list, warm_up: int = 50) -> list[float]:
    for item in items[:warm_up]:
        function(item)
    ms = []
    for item in items:
        start = time.perf_counter()
        function(item)
        ms.append((time.perf_counter() - start) * 1000.0)
    return ms


def scorer_alone(features: pl.DataFrame, requests: Requests, n: int, goals: dict) -> None:
    """One row at a time and 1 M rows in batch, compiled next to the logged pipeline."""
    import mlflow.sklearn

    uri = f"models:/{MODEL_NAME}@champion"
    pipeline = mlflow.sklearn.load_model(uri)
    compiled = load_compiled(uri)
    rows = [requests.model(i)["features"] for i in range(n)]
    print(f"the scorer alone, in-process, one row at a time (load {load_average()}):")
    compiled_ms = timed_ms(compiled.predict_row, rows)
    p50, p99 = report("compiled (request values)", compiled_ms, 0)
    goals["in-process single row p99 (ms)"] = (p99, GOAL_IN_PROCESS_P99_MS, p99 <= 1.0)
    frames = [pl.DataFrame([row]) for row in rows[: max(100, n // 5)]]
    pipeline_ms = timed_ms(lambda frame: predict_proba(pipeline, frame), frames, 10)
    pipe_p50, pipe_p99 = report("logged pipeline (one-row frame)", pipeline_ms, 0)
    print(f"  ratio pipeline / compiled: p50 {pipe_p50 / p50:.1f}, p99 {pipe_p99 / p99:.1f}")

    rng = np.random.default_rng(0)
    table = features.select(ENGAGEMENT_FEATURES)
    batch = table[rng.integers(0, len(table), BATCH_ROWS)]
    print(
        f"batch, {BATCH_ROWS:,} rows from a polars frame ({os.cpu_count()} threads, "
        f"load {load_average()}):"
    )
    rate = batch_rate("compiled, 200 trees of depth 6", compiled, batch)
    sample = batch.head(100_000)
    start = time.perf_counter()
    expected = predict_proba(pipeline, sample)
    pipeline_rate = len(sample) / (time.perf_counter() - start)
    agreement = float(np.max(np.abs(compiled.predict_frame(sample) - expected)))
    print(
        f"  logged pipeline {pipeline_rate:12,.0f} rows/s (on 100,000 rows)  ratio "
        f"{rate / pipeline_rate:.1f}; largest difference {agreement:.1e}"
    )
    served = train_engagement_model(features, HEADLINE_TARGET, param_grid=SEARCH_CHOICE)
    with tempfile.TemporaryDirectory() as folder:
        served_compiled = compile_model(served.estimator, Path(folder))
    served_rate = batch_rate(
        "compiled, the search's choice (100 trees of depth 4)", served_compiled, batch
    )
    goals["batch scoring, the served model (rows/s)"] = (
        served_rate,
        GOAL_BATCH_ROWS_PER_S,
        served_rate >= GOAL_BATCH_ROWS_PER_S,
    )


def batch_rate(label: str, compiled, batch: pl.DataFrame, repeats: int = 3) -> float:
    """Rows per second of one call over the whole batch, the median of `repeats` calls after a
    warm-up (one call's time moves by a third from call to call on 2 cores), printed with every
    call's time and how much of it encoding the frame takes."""
    compiled.set_threads(os.cpu_count() or 1)
    compiled.predict_frame(batch.head(10_000))
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        compiled.predict_frame(batch)
        seconds.append(time.perf_counter() - start)
    start = time.perf_counter()
    compiled.encoding.encode_frame(batch, np.float32)
    encoding = time.perf_counter() - start
    median = float(np.median(seconds))
    rate = len(batch) / median
    calls = ", ".join(f"{s:.2f}" for s in seconds)
    print(f"  {label}: {rate:12,.0f} rows/s (median of {calls} s; encoding about {encoding:.2f} s)")
    return rate


def in_process(data_dir: Path, api_key: str, requests: Requests, n: int) -> int:
    from fastapi.testclient import TestClient

    from roi_assets.serving.app import create_app
    from roi_assets.serving.config import ServingConfig

    config = ServingConfig(
        api_key=api_key,
        bi_warehouse=data_dir / "bi.duckdb",
        request_log_dir=data_dir / "serving_log_in_process",
        refresh_seconds=0,
    )
    print("in-process (TestClient), one request at a time:")
    errors = 0
    with TestClient(create_app(config), headers={"X-API-Key": api_key}) as client:

        def post(body: dict) -> httpx.Response:
            return client.post(SCORE_PATH, json=body)

        for kind in ("batch", "model", "cached"):
            make = getattr(requests, kind)
            sequential_ms(post, make, 20, offset=10**6)  # warm-up
            ms, failed, sources = sequential_ms(post, make, n)
            report(kind, ms, failed, f"sources={sources}")
            errors += failed
    return errors


def over_http(
    args, data_dir: Path, env: dict, api_key: str, requests: Requests, goals: dict
) -> int:
    """Our API, then MLflow's scoring server, each alone on the machine (the other stopped: an
    idle server's own threads still take the cores' time slices), on the same model."""
    headers = {"X-API-Key": api_key}
    ours_port, mlflow_port = _free_port(), _free_port()
    ours_url, mlflow_url = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{mlflow_port}"
    ours = [sys.executable, "-m", "roi_assets.serving", "--port", str(ours_port)]
    theirs = [str(Path(sys.executable).parent / "mlflow"), "models", "serve", "--env-manager"]
    theirs += ["local", "-m", f"models:/{MODEL_NAME}@champion", "-h", "127.0.0.1"]
    servers = {
        "ours": (
            [*ours, "--log-level", "warning"],
            f"{ours_url}/healthz",
            {
                "ours batch (known client)": (f"{ours_url}{SCORE_PATH}", requests.batch),
                "ours model (one-row features)": (f"{ours_url}{SCORE_PATH}", requests.model),
                "ours cache (same features)": (f"{ours_url}{SCORE_PATH}", requests.cached),
            },
        ),
        "mlflow": (
            [*theirs, "-p", str(mlflow_port)],
            f"{mlflow_url}/ping",
            {"mlflow /invocations (one row)": (f"{mlflow_url}/invocations", requests.mlflow)},
        ),
    }
    results, loads, errors = {}, {}, 0
    for name, (command, health_url, targets) in servers.items():
        process = start(command, env, data_dir / f"{name}.log")
        try:
            wait_until_up(health_url, process)
            print(f"{name}, alone on the machine (load {load_average()}):")
            with httpx.Client(headers=headers, timeout=30.0) as client:
                for label, (url, make) in targets.items():

                    def post(body, url=url):
                        return client.post(url, json=body)

                    sequential_ms(post, make, 20, 10**6)
                    ms, failed, sources = sequential_ms(post, make, args.requests, 2 * 10**6)
                    extra = f"sources={sources}" if sources else ""
                    results[label] = report(f"one at a time: {label}", ms, failed, extra)
                    errors += failed
            for label, (url, make) in targets.items():
                if label == "ours cache (same features)":
                    continue
                result = asyncio.run(
                    sustained_load(url, headers, make, args.seconds, CONCURRENCY, 3 * 10**6)
                )
                loads[label] = result
                errors += result["errors"]
                print(
                    f"  {CONCURRENCY} clients, {args.seconds:.0f} s: {label:30s} "
                    f"{result['rps']:6.0f} req/s  p50 {result['p50']:7.2f} ms  "
                    f"p99 {result['p99']:7.2f} ms  n={result['n']} errors={result['errors']}"
                    f"  (load {load_average()})"
                )
        finally:
            stop(process)
    mlflow_p50, mlflow_p99 = results["mlflow /invocations (one row)"]
    reference = loads["mlflow /invocations (one row)"]["rps"]
    for label in ("ours batch (known client)", "ours model (one-row features)"):
        p50, p99 = results[label]
        print(
            f"ratio {label} / mlflow: p50 {p50 / mlflow_p50:.2f}, p99 {p99 / mlflow_p99:.2f}, "
            f"throughput {loads[label]['rps'] / reference:.2f}"
        )
    model_p99 = results["ours model (one-row features)"][1]
    goals["HTTP computed score p99 (ms)"] = (model_p99, GOAL_HTTP_P99_MS, model_p99 <= 5.0)
    ratio = loads["ours model (one-row features)"]["rps"] / reference
    load_errors = sum(result["errors"] for result in loads.values())
    goals["16 clients: computed / mlflow throughput"] = (
        ratio,
        GOAL_THROUGHPUT_RATIO,
        ratio >= GOAL_THROUGHPUT_RATIO and load_errors == 0,
    )
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="tiny", choices=["tiny", "default"])
    parser.add_argument("--seconds", type=float, default=60.0, help="per sustained-load phase")
    parser.add_argument("--requests", type=int, default=1000, help="per sequential measurement")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(machine_description())
    print(f"scale={args.scale} load average at start={load_average()}")
    data_dir = Path(tempfile.mkdtemp(prefix="roi_serving_bench_"))
    try:
        features, uri = prepare_world(args.scale, args.seed, data_dir)
        api_key = secrets.token_urlsafe(24)
        env = {
            **os.environ,
            "ROI_DATA_DIR": str(data_dir),
            "ROI_WAREHOUSE_PATH": str(data_dir / "warehouse.duckdb"),
            "MLFLOW_TRACKING_URI": uri,
            "ROI_API_KEY": api_key,
            "ROI_SERVING_REFRESH_S": "0",
            # `mlflow models serve` execs uvicorn from PATH.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        with duckdb.connect(str(data_dir / "bi.duckdb"), read_only=True) as con:
            scored = con.execute("select client_id from marts.engagement_scores").fetchall()
        requests = Requests(features, [client for (client,) in scored], args.seed)
        print(f"{len(features):,} sends, {len(requests.clients):,} clients; model {MODEL_NAME}")
        goals: dict[str, tuple[float, float, bool]] = {}
        scorer_alone(features, requests, args.requests, goals)
        errors = in_process(data_dir, api_key, requests, args.requests)
        errors += over_http(args, data_dir, env, api_key, requests, goals)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"errors: {errors}; load average at end={load_average()}")
    print("goals:")
    for name, (measured, goal, met) in goals.items():
        print(f"  {name:42s} {measured:12,.2f}  goal {goal:12,.2f}  {'met' if met else 'MISSED'}")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
