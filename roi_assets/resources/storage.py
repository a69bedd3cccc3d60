"""Where the landing zone lives. The embedded default is a local folder."""

from pathlib import Path

import dagster as dg

from roi_assets import settings


class LandingZoneResource(dg.ConfigurableResource):
    """The landing zone's root folder; sources write there, the product only reads."""

    local_dir: str

    @property
    def path(self) -> Path:
        return Path(self.local_dir)

    @classmethod
    def from_settings(cls) -> "LandingZoneResource":
        return cls(local_dir=str(settings.landing_dir()))
