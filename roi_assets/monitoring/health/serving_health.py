"""Serving health from the serving API's request log: latency, throughput and error rate.

The API appends one JSON line per request to `serving_log/requests-*.jsonl` under the data folder
(ts, endpoint, model_name, model_version, latency_ms, status_code). Requests are summarised per
model version and UTC day into monitoring.serving_health. Requests that named no model (an unknown
route, a malformed body) say nothing about a model and are left out.

Breaches, judged on the latest day of each model:
- latency increase: its median latency minus the median of the earlier days' medians (the model's
  usual latency); the median, not the 99th percentile, because a day with a few hundred requests
  has a p99 set by two or three of them;
- error rate: the share of its requests answered with a 5xx status (a 4xx is the caller's fault).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from roi_assets.resources.table_contracts import create_statement
from roi_assets.resources.warehouse import upsert_rows

TABLE = "monitoring.serving_health"
LOG_PATTERN = "requests-*.jsonl"
KEY_COLUMNS: tuple[str, ...] = ("model_name", "model_version", "day")
_LOG_SCHEMA = {
    "ts": pl.String(),
    "endpoint": pl.String(),
    "model_name": pl.String(),
    "model_version": pl.String(),
    "latency_ms": pl.Float64(),
    "status_code": pl.Int64(),
}
_SCHEMA: dict[str, pl.DataType] = {
    "model_name": pl.String(),
    "model_version": pl.String(),
    "day": pl.Date(),
    "requests": pl.Int64(),
    "peak_requests_per_minute": pl.Int64(),
    "latency_p50_ms": pl.Float64(),
    "latency_p99_ms": pl.Float64(),
    "error_rate": pl.Float64(),
    "computed_at": pl.Datetime("us"),
}
_CREATE_TABLE = create_statement(TABLE)


def read_request_log(folder: Path) -> pl.DataFrame:
    """Every complete request line of the folder's log files, `ts` as a UTC timestamp. A line cut
    short by a killed process (the log is buffered) is skipped."""
    files = sorted(folder.glob(LOG_PATTERN)) if folder.is_dir() else []
    if not files:
        return pl.DataFrame(schema=_LOG_SCHEMA).with_columns(
            pl.col("ts").str.to_datetime(time_zone="UTC")
        )
    # Read line by line: polars' NDJSON reader rejects a whole file for one truncated line.
    lines = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    requests = pl.DataFrame(lines, schema=_LOG_SCHEMA, strict=False)
    return requests.drop_nulls(["ts", "latency_ms", "status_code"]).with_columns(
        pl.col("ts").str.to_datetime(time_zone="UTC", strict=False)
    )


def daily_serving_health(requests: pl.DataFrame, computed_at: dt.datetime) -> pl.DataFrame:
    """Per model version and UTC day: requests, peak requests in a minute, latency p50/p99 and the
    share of 5xx answers."""
    attributed = requests.filter(pl.col("model_name").is_not_null()).with_columns(
        pl.col("model_version").fill_null("unknown"),
        day=pl.col("ts").dt.date(),
        minute=pl.col("ts").dt.truncate("1m"),
    )
    keys = list(KEY_COLUMNS)
    peaks = (
        attributed.group_by([*keys, "minute"])
        .len()
        .group_by(keys)
        .agg(peak_requests_per_minute=pl.col("len").max())
    )
    return (
        attributed.group_by(keys)
        .agg(
            requests=pl.len(),
            latency_p50_ms=pl.col("latency_ms").quantile(0.5, interpolation="linear"),
            latency_p99_ms=pl.col("latency_ms").quantile(0.99, interpolation="linear"),
            error_rate=(pl.col("status_code") >= 500).mean(),
        )
        .join(peaks, on=keys)
        .with_columns(computed_at=pl.lit(computed_at))
        .select([pl.col(name).cast(dtype) for name, dtype in _SCHEMA.items()])
        .sort(keys)
    )


def write_serving_health(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> int:
    """Upsert daily rows keyed by (model_name, model_version, day): a day seen again is replaced
    by its fuller count. Creates the schema and table when missing."""
    rows = frame.select([pl.col(name).cast(dtype) for name, dtype in _SCHEMA.items()])
    upsert_rows(con, TABLE, _CREATE_TABLE, rows)
    return rows.height


@dataclass(frozen=True)
class ServingDay:
    """A model's latest day of traffic next to its usual latency."""

    model_name: str
    model_version: str
    day: dt.date
    requests: int
    latency_p50_ms: float
    usual_latency_p50_ms: float | None  # None: no earlier day to compare with
    error_rate: float

    @property
    def latency_increase_ms(self) -> float | None:
        if self.usual_latency_p50_ms is None:
            return None
        return self.latency_p50_ms - self.usual_latency_p50_ms


def latest_serving_days(health: pl.DataFrame) -> list[ServingDay]:
    """Each model's latest day (all its versions together, weighted by requests) and the median
    of its earlier days' median latencies."""
    if health.height == 0:
        return []
    per_day = (
        health.group_by(["model_name", "day"])
        .agg(
            model_version=pl.col("model_version").sort_by("requests").last(),
            latency_p50_ms=(pl.col("latency_p50_ms") * pl.col("requests")).sum()
            / pl.col("requests").sum(),
            error_rate=(pl.col("error_rate") * pl.col("requests")).sum() / pl.col("requests").sum(),
            requests=pl.col("requests").sum(),
        )
        .sort(["model_name", "day"])
    )
    days = []
    for (model_name,), frame in per_day.group_by(["model_name"], maintain_order=True):
        latest = frame.row(-1, named=True)
        earlier = frame.head(frame.height - 1)
        days.append(
            ServingDay(
                model_name=model_name,
                model_version=latest["model_version"],
                day=latest["day"],
                requests=latest["requests"],
                latency_p50_ms=latest["latency_p50_ms"],
                usual_latency_p50_ms=(
                    float(earlier["latency_p50_ms"].median()) if earlier.height else None
                ),
                error_rate=latest["error_rate"],
            )
        )
    return days


def read_serving_health(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """monitoring.serving_health, empty when the table does not exist yet."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'monitoring' and table_name = 'serving_health'"
    ).fetchone()[0]
    if not exists:
        return pl.DataFrame(schema=_SCHEMA)
    return con.execute(f"select * from {TABLE}").pl()
