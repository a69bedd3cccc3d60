"""Test-session setup: a private data folder at the tiny scale, and the dbt manifest.

The environment is set before anything imports `roi_assets.definitions`, whose resources read
their paths from `roi_assets.settings`.
"""

import os
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


# A one-point grid keeps the suite fast; `make run` and the schedule use the full grid.
TINY_TRAINING = {"full_grid": False, "n_splits": 3, "n_jobs": 1}

# Small training budgets per op for the tiny world; every domain adds its own entry here.
TINY_RUN_CONFIG = {
    "ops": {
        "engagement_model": {"config": TINY_TRAINING},
        "send_time_model": {
            "config": {"iterations": 200, "checkpoint_every": 20, "open_model_iterations": 50}
        },
        "personalization_evaluation": {
            "config": {"simulation_rounds": 5_000, "replay_sends": 5_000}
        },
        # The tiny world (150 days) is shorter than a 90-day label plus a 90-day purge, so its
        # churn models train up to the evaluation window (labels reaching into it) to keep the
        # graph whole; its churn gate verdict means nothing either way.
        "churn_model": {
            "config": {
                "forest_n_estimators": 30,
                "lstm_max_epochs": 1,
                "lstm_batch_size": 128,
                "lstm_max_train_rows": 600,
                "boundary_purge_days": 0,
            }
        },
        # The tiny world scans its documents at 100 dpi; its classifier is a wiring check.
        "raw__labelled_documents": {"config": {"render_dpi": 100}},
        "document_classifier": {
            "config": {"n_estimators": 60, "cnn_epochs": 8, "cnn_min_steps": 60, "cnn_folds": 2}
        },
    }
}


@pytest.fixture(scope="session")
def lived_instance():
    """A Dagster instance for the session's tiny world: the world wrote its history and the
    product ingested every landed day in one backfill run, as `make run` does."""
    import dagster as dg

    from roi_assets.automation.catch_up import RANGE_END, RANGE_START, landed_dates
    from roi_assets.definitions import defs
    from roi_assets.simulator.__main__ import default_world

    default_world().bootstrap()
    days = landed_dates(settings.landing_dir())
    instance = dg.DagsterInstance.ephemeral()
    ingested = defs.resolve_job_def("ingest_daily").execute_in_process(
        instance=instance,
        tags={RANGE_START: days[0].isoformat(), RANGE_END: days[-1].isoformat()},
    )
    assert ingested.success
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
