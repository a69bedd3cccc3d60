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

Long windows on short histories: a 90-day model whose training rows span only a few weeks (its
labels need 90 days to be observed, and its training rows end 90 days before its evaluation window)
has no date that lies 90 days after another, so `longest_feasible_purge` shortens the purge to the
longest that still leaves dates to score. A training label may then reach past a fold's first date,
which can flatter the out-of-fold scores the meta-learner weighs; it cannot flatter the reported
quality, because the evaluation window keeps the full purge (see `splits.py`), so a stack misled by
it shows up there as a stack no better than its best member.

Written by hand rather than with sklearn's TimeSeriesSplit because the purge is measured in
calendar days on snapshot dates, while TimeSeriesSplit counts its gap in samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from roi_assets.churn.features import as_days


class InsufficientHistory(ValueError):
    """Too few labelled snapshot dates for the split asked for: the data, not a bug, is at fault."""


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
    outside the purge; earlier dates only ever train. Raises InsufficientHistory when no date
    qualifies.
    """
    if n_folds < 1 or purge_days < 0 or min_train_dates < 1:
        raise ValueError("need n_folds >= 1, purge_days >= 0 and min_train_dates >= 1")
    distinct = np.unique(as_days(snapshot_dates))
    eligible = _scorable(distinct, purge_days, min_train_dates)
    if len(eligible) == 0:
        span = (distinct[-1] - distinct[0]).astype(int) if len(distinct) else 0
        raise InsufficientHistory(
            f"no snapshot date has {min_train_dates} training date(s) more than {purge_days} days "
            f"earlier: the {len(distinct)} dates span only {span} days"
        )
    blocks = np.array_split(eligible, min(n_folds, len(eligible)))
    purge = np.timedelta64(purge_days, "D")
    return [Fold(number, tuple(block), block[0] - purge) for number, block in enumerate(blocks)]


def longest_feasible_purge(snapshot_dates: Any, window_days: int, n_folds: int) -> int:
    """The purge for `time_ordered_folds`: the window itself when the history allows, otherwise the
    longest purge in days that leaves `n_folds` dates to score out of fold (or, failing that, one).

    Raises InsufficientHistory when not even a purge of zero days leaves a date to score.
    """
    distinct = np.unique(as_days(snapshot_dates))
    for wanted in (n_folds, 1):
        for purge_days in range(window_days, -1, -1):
            if len(_scorable(distinct, purge_days, min_train_dates=1)) >= wanted:
                return purge_days
    raise InsufficientHistory("a single snapshot date cannot be split into out-of-fold blocks")


def _scorable(distinct: np.ndarray, purge_days: int, min_train_dates: int) -> np.ndarray:
    """The sorted distinct dates that have `min_train_dates` earlier dates outside the purge."""
    trainable_dates = np.searchsorted(
        distinct, distinct - np.timedelta64(purge_days, "D"), side="left"
    )
    return distinct[trainable_dates >= min_train_dates]
