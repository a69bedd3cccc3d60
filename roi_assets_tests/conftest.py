"""Test-session setup: a private data folder at the tiny scale, and the dbt manifest.

The environment is set before anything imports `roi_assets.definitions`, whose resources read
their paths from `roi_assets.settings`.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

SESSION_DATA_DIR = Path(tempfile.mkdtemp(prefix="roi_assets_tests_"))
os.environ["ROI_DATA_DIR"] = str(SESSION_DATA_DIR)
os.environ.pop("ROI_WAREHOUSE_PATH", None)
os.environ.pop("ROI_LANDING_DIR", None)
os.environ["ROI_SCALE"] = "tiny"
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{SESSION_DATA_DIR / 'mlflow.db'}"
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from roi_assets import settings  # noqa: E402


def _ensure_dbt_manifest() -> None:
    manifest = settings.DBT_PROJECT_DIR / "target" / "manifest.json"
    if not manifest.exists():
        dbt = Path(sys.executable).parent / "dbt"
        subprocess.run(
            [str(dbt), "parse", "--quiet", "--profiles-dir", "."],
            cwd=settings.DBT_PROJECT_DIR,
            check=True,
        )


_ensure_dbt_manifest()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The session's data folder (about 60 MB) goes with it; ROI_KEEP_TEST_DATA=1 keeps it to
    look inside after a failure."""
    if os.environ.get("ROI_KEEP_TEST_DATA") != "1":
        shutil.rmtree(SESSION_DATA_DIR, ignore_errors=True)


# Small training budgets per op for the tiny world (shared with the chaos and soak benchmarks).
from roi_assets.automation.tiny_run import TINY_RUN_CONFIG  # noqa: E402


@pytest.fixture(scope="session")
def lived_instance():
    """A Dagster instance for the session's tiny world: the world wrote its history and the
    product ingested every landed day in one backfill run, as `make run` does."""
    import dagster as dg

    from roi_assets.automation.catch_up import ingest_range, landed_dates
    from roi_assets.definitions import defs
    from roi_assets.simulator.__main__ import default_world

    default_world().bootstrap()
    days = landed_dates(settings.landing_dir())
    instance = dg.DagsterInstance.ephemeral()
    assert ingest_range(instance, defs, days[0], days[-1]).success
    return instance


@pytest.fixture(scope="session")
def materialized_world(lived_instance):
    """The whole graph run once at the tiny scale (failures inspected by the tests)."""
    from roi_assets.definitions import defs

    job = defs.resolve_job_def("refresh_all")
    result = job.execute_in_process(
        instance=lived_instance,
        run_config=TINY_RUN_CONFIG,
        raise_on_error=False,
    )
    return result


@pytest.fixture(autouse=True)
def no_mlflow_run_left_open():
    """dagster-mlflow's resource opens an MLflow run that only a job hook closes: a test that
    materialises assets directly, or a run a gate blocked, can leave it active in this process,
    and a later test would log into it (or fail, when it switched stores)."""
    yield
    import mlflow

    while mlflow.active_run() is not None:
        mlflow.end_run()
