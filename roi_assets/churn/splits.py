"""Which churn snapshots train a window's model, which calibrate it and which evaluate it, without
leaking labels.

The evaluation rows are the latest snapshots whose label is observed (about `evaluation_fraction`
of the labelled rows, whole snapshot dates). The rows before them whose label window ended before
the first evaluation snapshot (`snapshot + purge < first evaluation snapshot`, the purge equal to
the prediction window by default) are what a model built on the day the evaluation window opens
could have known. Of those, the latest (about `calibration_fraction`, whole dates) calibrate the
stack's probabilities (`churn.calibration`), and the training rows are the ones before them purged
the same way, so the members never saw a label that reaches into the calibration window and score
it as they will score production snapshots:

    training | calibration purge | calibration | boundary purge | evaluation

The calibration purge is the boundary purge where the history allows; on a history too short for
both full purges (the 60- and 90-day windows need about a year for that) it is the longest that
leaves `MIN_TRAINING_DATES` training snapshot dates, and is recorded with the model
(`longest_training_purge`). A shorter calibration purge lets the members know a little of the
calibration rows' future, which makes the calibrator trust them a little too much; the evaluation
keeps the full boundary purge, so the reported calibration error shows it.

Why the purge matters: snapshots of the same client a few weeks apart share their static features,
so a training label whose window reaches into the evaluation period tells the forest how that very
client ends. Measured on the default world (forest alone, clients split in halves, 90-day window):
training on every snapshot before the evaluation window scored 0.78 AUC on the clients it had seen
and 0.70 on the others; with the purge both halves scored alike. Without it the evaluation flatters
the model and the gate lets through what production will not deliver.

`boundary_purge_days` below the window trades that honesty for training rows; a world shorter than
roughly three label windows (the test world) needs it for the 60- and 90-day models, and the
setting is recorded with every trained model.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from roi_assets.churn.features import label_column
from roi_assets.churn.folds import InsufficientHistory
from roi_assets.evaluation.windows import TimeWindow, time_ordered_split

SNAPSHOT_COLUMN = "snapshot_date"
EVALUATION_FRACTION = 0.2
# About four weekly snapshots on the default world: several hundred matured churners per window.
CALIBRATION_FRACTION = 0.2
MIN_TRAINING_DATES = 3


@dataclass(frozen=True)
class WindowSplit:
    """The training, calibration and evaluation rows of one prediction window."""

    window_days: int
    boundary_purge_days: int
    calibration_purge_days: int
    training: pl.DataFrame
    calibration: pl.DataFrame
    evaluation: pl.DataFrame

    @property
    def label(self) -> str:
        return label_column(self.window_days)

    @property
    def evaluation_window(self) -> TimeWindow:
        return TimeWindow.covering(self.evaluation[SNAPSHOT_COLUMN])

    @property
    def calibration_window(self) -> TimeWindow:
        return TimeWindow.covering(self.calibration[SNAPSHOT_COLUMN])

    @property
    def evaluation_start(self) -> dt.date:
        return self.evaluation[SNAPSHOT_COLUMN].min()


def _purged_before(rows: pl.DataFrame, first_later: dt.date, purge_days: int) -> pl.DataFrame:
    """The rows whose label window (snapshot + purge) closed before `first_later`."""
    return rows.filter(pl.col(SNAPSHOT_COLUMN) + pl.duration(days=purge_days) < pl.lit(first_later))


def longest_training_purge(
    earlier: pl.DataFrame, first_calibrated: dt.date, wanted_days: int
) -> int | None:
    """The calibration purge: `wanted_days`, or the longest shorter one that leaves
    MIN_TRAINING_DATES snapshot dates to train on (or, failing that, one); None when none does."""
    dates = earlier[SNAPSHOT_COLUMN].unique()
    for needed in (MIN_TRAINING_DATES, 1):
        for purge in range(wanted_days, -1, -1):
            kept = dates.filter(dates + dt.timedelta(days=purge) < first_calibrated)
            if kept.len() >= needed:
                return purge
    return None


def labelled_rows(churn: pl.DataFrame, window_days: int) -> pl.DataFrame:
    """Rows of feat_client_churn whose label for the window is observed (not NULL)."""
    return churn.filter(pl.col(label_column(window_days)).is_not_null())


def split_window(
    churn: pl.DataFrame,
    window_days: int,
    evaluation_fraction: float = EVALUATION_FRACTION,
    boundary_purge_days: int | None = None,
    calibration_fraction: float = CALIBRATION_FRACTION,
) -> WindowSplit:
    """The window's evaluation rows (latest labelled snapshots), its calibration rows before them
    and its training rows before those, each boundary purged (see the module's docstring).

    `boundary_purge_days` defaults to the window. Raises InsufficientHistory when too few
    snapshots are labelled to split, or when no training snapshot survives the purges.
    """
    purge = window_days if boundary_purge_days is None else boundary_purge_days
    if purge < 0:
        raise ValueError("boundary_purge_days cannot be negative")
    labelled = labelled_rows(churn, window_days)
    if labelled[SNAPSHOT_COLUMN].n_unique() < 2:
        raise InsufficientHistory(
            f"fewer than two snapshot dates have an observed {window_days}-day label"
        )
    earlier, evaluation = time_ordered_split(labelled, SNAPSHOT_COLUMN, evaluation_fraction)
    first_evaluated = evaluation[SNAPSHOT_COLUMN].min()
    known = _purged_before(earlier, first_evaluated, purge)
    if known[SNAPSHOT_COLUMN].n_unique() < 2:
        raise InsufficientHistory(
            f"fewer than two {window_days}-day snapshot dates lie more than {purge} days before "
            f"the evaluation window starting {first_evaluated}: the labelled history is too short "
            "to train and calibrate"
        )
    try:
        before_calibration, calibration = time_ordered_split(
            known, SNAPSHOT_COLUMN, calibration_fraction
        )
    except ValueError as too_few:
        raise InsufficientHistory(f"{window_days}-day rows: {too_few}") from too_few
    first_calibrated = calibration[SNAPSHOT_COLUMN].min()
    calibration_purge = longest_training_purge(before_calibration, first_calibrated, purge)
    if calibration_purge is None:
        raise InsufficientHistory(
            f"no {window_days}-day snapshot lies before the calibration window starting "
            f"{first_calibrated}: the labelled history is too short"
        )
    training = _purged_before(before_calibration, first_calibrated, calibration_purge)
    return WindowSplit(window_days, purge, calibration_purge, training, calibration, evaluation)
