"""Where the landing zone lives. The embedded default is a local folder; an S3 bucket (named by
ROI_S3_LANDING_BUCKET) may hold landing files too, under `s3_prefix`, laid out like the folder.

The S3 client comes from dagster-aws's `S3Resource`, which leaves endpoint, region and credentials
to the AWS SDK's own chain: AWS_ENDPOINT_URL_S3 points it at an S3-compatible store (MinIO, a
local test server), AWS_DEFAULT_REGION and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or a profile,
or an instance role) do the rest.
"""

from pathlib import Path
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource

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
        """A boto3 S3 client built by dagster-aws (endpoint, region, credentials from the
        environment)."""
        return S3Resource().get_client()

    @classmethod
    def from_settings(cls) -> "LandingZoneResource":
        return cls(
            local_dir=str(settings.landing_dir()),
            s3_bucket=settings.s3_landing_bucket(),
            s3_prefix=settings.s3_landing_prefix(),
        )
