"""Risk tiers of the specification: low < 0.3 ≤ medium < 0.6 ≤ high < 0.8 ≤ critical.

Each threshold belongs to the tier above it (0.3 is medium, 0.6 is high, 0.8 is critical).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

RISK_TIERS: tuple[str, ...] = ("low", "medium", "high", "critical")
TIER_THRESHOLDS: tuple[float, ...] = (0.3, 0.6, 0.8)  # lower bounds of medium, high, critical
MEDIUM_RISK = TIER_THRESHOLDS[0]
HIGH_RISK = TIER_THRESHOLDS[1]


def tier_index(probability: ArrayLike) -> np.ndarray:
    """0 for low … 3 for critical, elementwise; useful for ordering and comparing tiers."""
    values = np.asarray(probability, dtype=np.float64)
    if np.isnan(values).any() or (values < 0).any() or (values > 1).any():
        raise ValueError("probabilities must lie in [0, 1]")
    # right=False puts a value equal to a threshold into the bin above it.
    return np.digitize(values, TIER_THRESHOLDS, right=False)


def risk_tier(probability: ArrayLike) -> str | np.ndarray:
    """The tier name of one probability, or an array of names for an array of probabilities."""
    names = np.asarray(RISK_TIERS)[tier_index(probability)]
    return str(names) if names.ndim == 0 else names
