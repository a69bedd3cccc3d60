"""Every path, environment variable and default in one place.

Values are read when a function is called, not at import, so tests and the Makefile can point the
product at another warehouse or landing zone by setting environment variables.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

ENV_DATA_DIR = "ROI_DATA_DIR"
ENV_WAREHOUSE_PATH = "ROI_WAREHOUSE_PATH"
ENV_LANDING_DIR = "ROI_LANDING_DIR"
ENV_SCALE = "ROI_SCALE"
ENV_SEED = "ROI_SEED"
ENV_LIVE_DRIFT_DAY = "ROI_LIVE_DRIFT_DAY"
ENV_MLFLOW_TRACKING_URI = "MLFLOW_TRACKING_URI"
ENV_S3_LANDING_BUCKET = "ROI_S3_LANDING_BUCKET"
ENV_S3_LANDING_PREFIX = "ROI_S3_LANDING_PREFIX"
ENV_S3_ARTIFACT_BUCKET = "ROI_S3_ARTIFACT_BUCKET"
ENV_S3_ARTIFACT_PREFIX = "ROI_S3_ARTIFACT_PREFIX"

DEFAULT_SCALE = "default"
DEFAULT_SEED = 7
# The live day (1 = the first after the history) from which the world drifts, so that monitoring
# has something to find in `make live`; "off" keeps the world stationary.
DEFAULT_LIVE_DRIFT_DAY = "18"


def data_dir() -> Path:
    """Root of everything the product writes (ignored by git)."""
    return Path(os.environ.get(ENV_DATA_DIR, PROJECT_ROOT / "data")).resolve()


def warehouse_path() -> Path:
    """The DuckDB file the pipeline writes; dbt's profiles.yml reads the same variable."""
    return Path(os.environ.get(ENV_WAREHOUSE_PATH, data_dir() / "warehouse.duckdb")).resolve()


def bi_warehouse_path() -> Path:
    """The read-only copy BI tools open; replaced atomically after each run."""
    return warehouse_path().with_name("bi.duckdb")


def landing_dir() -> Path:
    """The landing zone: raw files as the sources deliver them, never modified by the product."""
    return Path(os.environ.get(ENV_LANDING_DIR, data_dir() / "landing")).resolve()


def s3_landing_bucket() -> str | None:
    """A bucket that holds landing files too, laid out like the local folder; None when unset.
    Endpoint, region and credentials come from the AWS SDK's own variables
    (AWS_ENDPOINT_URL_S3 for an S3-compatible store, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, ...)."""
    return os.environ.get(ENV_S3_LANDING_BUCKET) or None


def s3_landing_prefix() -> str:
    """Key prefix under which the landing zone starts in its bucket ("" for the bucket's root)."""
    return os.environ.get(ENV_S3_LANDING_PREFIX, "").strip("/")


def artifacts_dir() -> Path:
    """Reports, plots and other files that asset metadata links to."""
    return data_dir() / "artifacts"


def serving_log_dir() -> Path:
    """Where the serving API appends its request log, which serving-health monitoring reads."""
    return data_dir() / "serving_log"


def mlflow_tracking_uri() -> str:
    """sqlite store under data/ by default; set MLFLOW_TRACKING_URI to use a tracking server."""
    return os.environ.get(ENV_MLFLOW_TRACKING_URI, f"sqlite:///{data_dir() / 'mlflow.db'}")


def mlflow_artifact_location() -> str:
    """Where a local MLflow store keeps run artifacts: under data/, or in ROI_S3_ARTIFACT_BUCKET
    (under ROI_S3_ARTIFACT_PREFIX) when set. A tracking server chooses its own store."""
    bucket = os.environ.get(ENV_S3_ARTIFACT_BUCKET)
    if bucket:
        prefix = os.environ.get(ENV_S3_ARTIFACT_PREFIX, "").strip("/")
        return f"s3://{bucket}/{prefix}/mlartifacts" if prefix else f"s3://{bucket}/mlartifacts"
    return (data_dir() / "mlartifacts").as_uri()


def simulation_scale() -> str:
    return os.environ.get(ENV_SCALE, DEFAULT_SCALE)


def simulation_seed() -> int:
    return int(os.environ.get(ENV_SEED, DEFAULT_SEED))


def live_drift_day() -> int | None:
    """The live day the world starts drifting on, None when it never does."""
    value = os.environ.get(ENV_LIVE_DRIFT_DAY, DEFAULT_LIVE_DRIFT_DAY).strip().lower()
    return None if value in ("", "off", "none", "0") else int(value)


def dbt_environment() -> dict[str, str]:
    """Variables dbt needs so that it writes the same warehouse as Dagster."""
    return {ENV_WAREHOUSE_PATH: str(warehouse_path())}
