"""Time-ordered folds for out-of-fold stacking, purged by the label window.

The meta-learner must learn from member predictions made the way they will be made in production:
by members that never saw the rows they score nor anything after them. So the distinct snapshot
dates are cut into contiguous blocks; the members that score a block are trained only on snapshots
that lie strictly more than `purge_days` before the block's first date.

Why purge: a training snapshot s carries a label that looks at churn in (s, s + window]. If that
interval reaches into the block, the training label already knows which of the block's still-active
clients churn later, and the out-of-fold predictions would look better than production ones. With
`purge_days = window_days` every training label is fully observed before the block begins, exactly
as it will be when the final model scores a new snapshot.

Written by hand rather than with sklearn's TimeSeriesSplit because the purge is measured in
calendar days on snapshot dates, while TimeSeriesSplit counts its gap in samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from roi_assets.churn.features import as_days


@dataclass(frozen=True)
class Fold:
    """One block of snapshot dates scored out of fold, and the training cut-off for it."""

    number: int
    test_dates: tuple[np.datetime64, ...]
    train_before: np.datetime64  # training uses snapshot dates strictly before this day

    def test_mask(self, dates: np.ndarray) -> np.ndarray:
        return np.isin(dates, np.asarray(self.test_dates, dtype="datetime64[D]"))

    def train_mask(self, dates: np.ndarray) -> np.ndarray:
        return dates < self.train_before


def time_ordered_folds(
    snapshot_dates: Any, n_folds: int, purge_days: int, min_train_dates: int = 1
) -> list[Fold]:
    """Split the distinct snapshot dates into at most `n_folds` out-of-fold blocks.

    Blocks start at the first date that has at least `min_train_dates` earlier snapshot dates
    outside the purge; earlier dates only ever train. Raises ValueError when no date qualifies.
    """
    if n_folds < 1 or purge_days < 0 or min_train_dates < 1:
        raise ValueError("need n_folds >= 1, purge_days >= 0 and min_train_dates >= 1")
    distinct = np.unique(as_days(snapshot_dates))
    purge = np.timedelta64(purge_days, "D")
    trainable_dates = np.searchsorted(distinct, distinct - purge, side="left")
    eligible = distinct[trainable_dates >= min_train_dates]
    if len(eligible) == 0:
        span = (distinct[-1] - distinct[0]).astype(int) if len(distinct) else 0
        raise ValueError(
            f"no snapshot date has {min_train_dates} training date(s) more than {purge_days} days "
            f"earlier: the {len(distinct)} dates span only {span} days"
        )
    blocks = np.array_split(eligible, min(n_folds, len(eligible)))
    return [Fold(number, tuple(block), block[0] - purge) for number, block in enumerate(blocks)]
