"""False-alarm and detection rates of feature drift monitoring over simulated worlds.

For each seed, two worlds of the same size: one without the simulator's drift switch and one with
it on for the last `DRIFT_DAYS` days. Each goes through ingestion and the dbt feature models, then
through `roi_assets.monitoring.drift.feature_drift` exactly as the monitoring asset runs it
(training window against the latest 28 days). Printed:

- false-alarm rate: the share of monitored features flagged in the worlds without drift;
- detection rate: the share of the shifted features (subject length, personalisation, logins)
  flagged in the worlds with drift;
- other features flagged with drift on (features that move with the shifted ones).

    .venv/bin/python benchmarks/drift_false_alarms.py [--scale tiny] [--seeds 10]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import polars as pl

from roi_assets.ingestion.contracts import CONTRACTS
from roi_assets.ingestion.loader import ingest_source
from roi_assets.monitoring.drift.feature_drift import (
    CHURN_INPUTS,
    EMAIL_INPUTS,
    MonitoredInputs,
    feature_drift,
)
from roi_assets.simulator import Drift, simulate_world, world_config

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"
DRIFT_DAYS = 30
# What the drift switch shifts directly, per monitored table.
SHIFTED = {
    EMAIL_INPUTS.table: {"subject_length", "personalization_score", "login_frequency_weekly"},
    CHURN_INPUTS.table: {"login_frequency_slope_30d"},
}


def feature_tables(scale: str, seed: int, drift: Drift | None, folder: Path) -> Path:
    """Simulate, ingest and build the feature models into `folder/warehouse.duckdb`."""
    warehouse = folder / "warehouse.duckdb"
    simulate_world(world_config(scale, seed, drift=drift), folder / "landing")
    with duckdb.connect(str(warehouse)) as con:
        for contract in CONTRACTS.values():
            ingest_source(con, folder / "landing", contract)
    env = {**os.environ, "ROI_DATA_DIR": str(folder), "ROI_WAREHOUSE_PATH": str(warehouse)}
    common = ["--quiet", "--profiles-dir", ".", "--target-path", str(folder / "dbt_target")]
    for command in (["seed"], ["run", "--select", "+feat_email_engagement", "+feat_client_churn"]):
        subprocess.run(
            [str(DBT), *command, *common, "--log-path", str(folder)],
            cwd=DBT_PROJECT_DIR,
            env=env,
            check=True,
        )
    return warehouse


def flagged(warehouse: Path, inputs: MonitoredInputs) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = con.execute(f"select * from {inputs.table}").pl()
    report, _ = feature_drift(frame, inputs)
    return set(report.drifted_features)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    n_days = world_config(args.scale, 0).scale.n_days
    drift = Drift(start_day=n_days - DRIFT_DAYS)
    tables = (EMAIL_INPUTS, CHURN_INPUTS)
    false_alarms = {t.table: 0 for t in tables}
    detections = {t.table: 0 for t in tables}
    side_effects: dict[str, int] = {}
    started = time.perf_counter()
    for seed in range(args.seeds):
        with tempfile.TemporaryDirectory(prefix="drift_bench_") as folder:
            calm = feature_tables(args.scale, seed, None, Path(folder) / "calm")
            shifted = feature_tables(args.scale, seed, drift, Path(folder) / "drift")
            for inputs in tables:
                alarms = flagged(calm, inputs)
                found = flagged(shifted, inputs)
                false_alarms[inputs.table] += len(alarms)
                detections[inputs.table] += len(found & SHIFTED[inputs.table])
                for feature in found - SHIFTED[inputs.table]:
                    side_effects[feature] = side_effects.get(feature, 0) + 1
                print(
                    f"seed {seed} {inputs.table}: no drift flags {sorted(alarms)}; "
                    f"drift flags {sorted(found)}"
                )
    print(
        f"\n{args.seeds} seeds at scale {args.scale!r}, drift on the last {DRIFT_DAYS} days, "
        f"{time.perf_counter() - started:.0f} s"
    )
    summary = pl.DataFrame(
        [
            {
                "table": t.table,
                "monitored_features": len(t.features),
                "false_alarm_rate": false_alarms[t.table] / (len(t.features) * args.seeds),
                "detection_rate": detections[t.table] / (len(SHIFTED[t.table]) * args.seeds),
            }
            for t in tables
        ]
    )
    print(summary)
    print("other features flagged with drift on (seeds):", side_effects or "none")


if __name__ == "__main__":
    main()
