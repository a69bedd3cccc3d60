"""What the world's emails are made of: the legacy send hours, content tastes and holidays."""

from __future__ import annotations

from dataclasses import dataclass

import holidays
import numpy as np

from roi_assets.simulator import catalog
from roi_assets.simulator.scales import WorldConfig

# The logging policy sends mostly in business hours but covers every hour, so hour effects and
# off-policy replay are identifiable from the logs.
BUSINESS_HOURS = np.array([0, 0, 0, 0, 0, 0, 1, 3, 5, 6, 6, 5, 4, 5, 5, 5, 4, 4, 4, 3, 2, 1, 0, 0])
UNIFORM_SHARE = 0.3
# A click leads to the email's action (a viewing booked, a document signed) this often, whoever
# the client; the evaluation's true action probability is p_click times this.
ACTION_GIVEN_CLICK = 0.3


@dataclass(frozen=True)
class ContentTaste:
    """Per family, a (n_segments, n_variants) logit effect: how each segment likes each variant."""

    subject_line: np.ndarray
    email_template: np.ndarray
    cta_style: np.ndarray


def draw_content_taste(rng: np.random.Generator) -> ContentTaste:
    shape = (len(catalog.SEGMENTS), 5)
    return ContentTaste(
        subject_line=rng.normal(0, 0.25, shape),
        email_template=rng.normal(0, 0.35, shape),
        cta_style=rng.normal(0, 0.35, shape),
    )


def us_holiday_days(config: WorldConfig) -> np.ndarray:
    """Day indices of US federal holidays inside the world."""
    us = holidays.country_holidays(
        "US", years=range(config.start_date.year, config.end_date.year + 1)
    )
    start = np.datetime64(config.start_date, "D")
    days = [(np.datetime64(d, "D") - start).astype(int) for d in us]
    return np.array([d for d in days if 0 <= d < config.scale.n_days], dtype=np.int64)
