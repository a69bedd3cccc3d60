"""True open and click probability of every client at every hour of the week.

The send-time optimizer's environment draws its rewards from here; `truth.best_send_hours` is its
argmax. Content is held at its average (neutral taste, mean attributes), so only the client and the
hour matter.
"""

from __future__ import annotations

import numpy as np

from roi_assets.simulator.behaviour import (
    click_given_open_logit,
    hour_effect_matrix,
    open_logit,
    sigmoid,
)

TYPICAL_DAYS_SINCE_LOGIN = 2.0
MEAN_VALUE_PROPOSITION = 0.4
MEAN_CTA_COUNT = 1


def hour_probabilities(
    propensity: np.ndarray,
    chronotype: np.ndarray,
    engagement_level: np.ndarray,
    hour_shift: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(n_clients, 168) true P(open) and P(click) by local hour of the week."""
    n = len(propensity)
    zeros = np.zeros((n, 1))
    p_open = sigmoid(
        open_logit(
            propensity[:, None],
            hour_effect_matrix(chronotype, hour_shift),
            engagement_level[:, None],
            np.full((n, 1), TYPICAL_DAYS_SINCE_LOGIN),
            zeros,
            zeros,
            zeros,
        )
    )
    p_click_given_open = sigmoid(
        click_given_open_logit(
            propensity[:, None], zeros, zeros, MEAN_VALUE_PROPOSITION, MEAN_CTA_COUNT
        )
    )
    return p_open, p_open * p_click_given_open
