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
ENV_DUCKDB_MEMORY_LIMIT = "ROI_DUCKDB_MEMORY_LIMIT"
ENV_DUCKDB_TEMP_DIR = "ROI_DUCKDB_TEMP_DIR"
ENV_DASK_SCHEDULER = "ROI_DASK_SCHEDULER"
ENV_FEATURE_EXPORT_DIR = "ROI_FEATURE_EXPORT_DIR"
ENV_TESSDATA = "TESSDATA_PREFIX"  # Tesseract's own variable

DEFAULT_SCALE = "default"
DEFAULT_SEED = 7
# The live day (1 = the first after the history) from which the world drifts, so that monitoring
# has something to find in `make live`; "off" keeps the world stationary.
DEFAULT_LIVE_DRIFT_DAY = "18"
# DuckDB's own default is 80 % of the machine's memory; the warehouse shares its machine with
# training, so it is capped and spills to its temporary directory beyond the cap.
DEFAULT_DUCKDB_MEMORY_LIMIT = "4GB"
# Where Debian's tesseract-ocr-eng and tesseract-ocr-osd packages put the language data.
DEFAULT_TESSDATA_DIR = "/usr/share/tesseract-ocr/5/tessdata"


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


def duckdb_memory_limit() -> str:
    """DuckDB's `memory_limit` (e.g. "4GB"): beyond it, sorts, joins and windows spill to disk."""
    return os.environ.get(ENV_DUCKDB_MEMORY_LIMIT) or DEFAULT_DUCKDB_MEMORY_LIMIT


def duckdb_temp_dir() -> Path:
    """Where DuckDB spills: next to the warehouse by default (`<warehouse>.tmp`, DuckDB's own
    choice), or a larger local disk named by ROI_DUCKDB_TEMP_DIR."""
    default = warehouse_path().with_name(warehouse_path().name + ".tmp")
    return Path(os.environ.get(ENV_DUCKDB_TEMP_DIR) or default).resolve()


def duckdb_config() -> dict[str, str]:
    """Settings every connection to the warehouse opens with (Dagster resources, scripts, dbt)."""
    return {"memory_limit": duckdb_memory_limit(), "temp_directory": str(duckdb_temp_dir())}


def dask_scheduler() -> str | None:
    """Address of a Dask distributed scheduler (tcp://host:8786, or a dask-gateway/kubernetes
    cluster's) that training and batch scoring run on; None: everything runs in-process."""
    return os.environ.get(ENV_DASK_SCHEDULER) or None


def feature_export_dir() -> str:
    """Where dbt exports the feature tables as Parquet for Dask workers: a folder (or s3:// URI)
    every worker can read; under the data folder by default."""
    return os.environ.get(ENV_FEATURE_EXPORT_DIR) or str(data_dir() / "feature_export")


def tessdata_dir() -> Path:
    """Tesseract's language data (eng to read, osd to orient pages)."""
    return Path(os.environ.get(ENV_TESSDATA, DEFAULT_TESSDATA_DIR))


def dbt_environment() -> dict[str, str]:
    """Variables dbt needs so that it writes the same warehouse as Dagster, with its limits."""
    return {
        ENV_WAREHOUSE_PATH: str(warehouse_path()),
        ENV_DUCKDB_MEMORY_LIMIT: duckdb_memory_limit(),
        ENV_DUCKDB_TEMP_DIR: str(duckdb_temp_dir()),
        ENV_FEATURE_EXPORT_DIR: feature_export_dir(),
    }
