"""What the serving API needs to know about its surroundings, read once when the app is built.

Paths come from `roi_assets.settings` (the BI copy of the warehouse, the data folder); the rest from
the environment, so `make serve` and a container set them the same way. The API key has no
default: a scoring API without a key is a misconfiguration, and the app refuses to start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from roi_assets import settings

ENV_API_KEY = "ROI_API_KEY"
ENV_MAX_UPLOAD_MB = "ROI_SERVING_MAX_UPLOAD_MB"
ENV_CACHE_TTL_SECONDS = "ROI_SERVING_CACHE_TTL_S"
ENV_REFRESH_SECONDS = "ROI_SERVING_REFRESH_S"


@dataclass(frozen=True)
class ServingConfig:
    api_key: str
    bi_warehouse: Path
    request_log_dir: Path
    max_upload_bytes: int = 10 * 2**20
    cache_ttl_seconds: float = 300.0
    cache_max_entries: int = 100_000
    # How often the registry aliases, the rollout state and the BI copy are checked for changes;
    # 0 turns the periodic check off (POST /admin/reload still works).
    refresh_seconds: float = 60.0


def config_from_environment() -> ServingConfig:
    """The configuration `make serve` runs with; raises when ROI_API_KEY is not set."""
    api_key = os.environ.get(ENV_API_KEY, "")
    if not api_key:
        raise RuntimeError(f"set {ENV_API_KEY}: the serving API does not run without a key")
    return ServingConfig(
        api_key=api_key,
        bi_warehouse=settings.bi_warehouse_path(),
        request_log_dir=settings.serving_log_dir(),
        max_upload_bytes=int(float(os.environ.get(ENV_MAX_UPLOAD_MB, "10")) * 2**20),
        cache_ttl_seconds=float(os.environ.get(ENV_CACHE_TTL_SECONDS, "300")),
        refresh_seconds=float(os.environ.get(ENV_REFRESH_SECONDS, "60")),
    )
