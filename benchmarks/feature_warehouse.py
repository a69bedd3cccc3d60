"""A warehouse with the feature tables of a simulated world, for benchmarks of what reads them.

Simulates the world into `data_dir/landing` (its truth tables into the `truth` schema, for studies
that compare with the oracle), ingests it and runs `dbt seed` + `dbt run` against
`data_dir/warehouse.duckdb`, leaving the checkout's `data/` and `dbt_project/target/` alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from roi_assets.ingestion.contracts import CONTRACTS
from roi_assets.ingestion.loader import ingest_source
from roi_assets.simulator import simulate_world, world_config
from roi_assets.simulator.truth import write_truth

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"


def build_feature_warehouse(scale: str, seed: int, data_dir: Path) -> Path:
    """Simulate, ingest and build the dbt models; returns the warehouse's path."""
    warehouse = data_dir / "warehouse.duckdb"
    world = simulate_world(world_config(scale, seed), data_dir / "landing")
    with duckdb.connect(str(warehouse)) as con:
        write_truth(con, world.truth)
        for contract in CONTRACTS.values():
            ingest_source(con, data_dir / "landing", contract)
    env = {
        **os.environ,
        "ROI_DATA_DIR": str(data_dir),
        "ROI_WAREHOUSE_PATH": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    common = ["--profiles-dir", ".", "--target-path", str(data_dir / "dbt_target")]
    # The Parquet exports (tag:export) are built on demand, as in the product's daily build.
    for command in (["seed"], ["run", "--exclude", "tag:export"]):
        subprocess.run(
            [str(DBT), *command, "--quiet", *common, "--log-path", str(data_dir)],
            cwd=DBT_PROJECT_DIR,
            env=env,
            check=True,
        )
    return warehouse


def read_feature_table(warehouse: Path, table: str):
    """One `features.*` table as a polars frame."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select * from features.{table}").pl()
