"""Where the landing zone lives. The embedded default is a local folder; an S3 bucket (named by
ROI_S3_LANDING_BUCKET) may hold landing files too, under `s3_prefix`, laid out like the folder."""

import os
from pathlib import Path
from typing import Any

import boto3
import dagster as dg

from roi_assets import settings


class LandingZoneResource(dg.ConfigurableResource):
    """The landing zone's root folder (and bucket); sources write there, the product only reads."""

    local_dir: str
    s3_bucket: str | None = None
    s3_prefix: str = ""

    @property
    def path(self) -> Path:
        return Path(self.local_dir)

    @property
    def uses_s3(self) -> bool:
        return bool(self.s3_bucket)

    def s3_client(self) -> Any:
        """A boto3 S3 client (region and credentials from the environment)."""
        return boto3.client("s3")

    @classmethod
    def from_settings(cls) -> "LandingZoneResource":
        bucket = os.environ.get(settings.ENV_S3_LANDING_BUCKET) or None
        return cls(local_dir=str(settings.landing_dir()), s3_bucket=bucket)
