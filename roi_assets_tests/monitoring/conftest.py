"""Small simulated worlds with and without the simulator's drift switch, as feature tables."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from roi_assets import settings
from roi_assets.ingestion.contracts import CONTRACTS
from roi_assets.ingestion.loader import ingest_source
from roi_assets.simulator import Drift, simulate_world, world_config

SEED = 3
DRIFT = Drift(start_day=120)  # the tiny world's last 30 days


def _feature_tables(folder: Path, drift: Drift | None) -> Path:
    """Simulate, ingest and build the two monitored feature tables (about 10 s at tiny scale)."""
    warehouse = folder / "warehouse.duckdb"
    simulate_world(world_config("tiny", SEED, drift=drift), folder / "landing")
    with duckdb.connect(str(warehouse)) as con:
        for contract in CONTRACTS.values():
            ingest_source(con, folder / "landing", contract)
    env = {**os.environ, settings.ENV_WAREHOUSE_PATH: str(warehouse)}
    common = ["--quiet", "--profiles-dir", ".", "--target-path", str(folder / "dbt_target")]
    for command in (["seed"], ["run", "--select", "+feat_email_engagement", "+feat_client_churn"]):
        subprocess.run(
            [
                str(Path(sys.executable).parent / "dbt"),
                *command,
                *common,
                "--log-path",
                str(folder),
            ],
            cwd=settings.DBT_PROJECT_DIR,
            env=env,
            check=True,
        )
    return warehouse


def _tables(warehouse: Path) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            table: con.execute(f"select * from {table}").pl()
            for table in ("features.feat_email_engagement", "features.feat_client_churn")
        }


@pytest.fixture(scope="session")
def calm_world(tmp_path_factory):
    return _tables(_feature_tables(tmp_path_factory.mktemp("calm_world"), None))


@pytest.fixture(scope="session")
def drifted_world(tmp_path_factory):
    return _tables(_feature_tables(tmp_path_factory.mktemp("drifted_world"), DRIFT))
