"""Which churn snapshots train a window's model and which evaluate it, without leaking labels.

The evaluation rows are the latest snapshots whose label is observed (about `evaluation_fraction`
of the labelled rows, whole snapshot dates). The training rows are the ones before them whose label
window ended before the first evaluation snapshot (`snapshot + purge < first evaluation snapshot`,
the purge equal to the prediction window by default): what a model built on the day the evaluation
window opens could have known.

    training | boundary purge | evaluation

The stack's probabilities are calibrated inside the training rows, on the latest out-of-fold block
(`ChurnEnsemble.fit`): its scores come from members that never saw it, purged the same way. An
earlier design carved a separate calibration window out of the training rows; it cost the 30-day
stack 8 of its 20 training snapshots and the 60- and 90-day stacks all but 3, and their AUC with
them (`benchmarks/churn_calibration.py`, docs/benchmarks.md).

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
from dataclasses import dataclass, replace

import polars as pl

from roi_assets.churn.features import label_column
from roi_assets.churn.folds import InsufficientHistory
from roi_assets.evaluation.windows import TimeWindow, time_ordered_split

SNAPSHOT_COLUMN = "snapshot_date"
EVALUATION_FRACTION = 0.2


@dataclass(frozen=True)
class WindowSplit:
    """The training and evaluation rows of one prediction window."""

    window_days: int
    boundary_purge_days: int
    training: pl.DataFrame
    evaluation: pl.DataFrame

    @property
    def label(self) -> str:
        return label_column(self.window_days)

    @property
    def evaluation_window(self) -> TimeWindow:
        return TimeWindow.covering(self.evaluation[SNAPSHOT_COLUMN])

    @property
    def evaluation_start(self) -> dt.date:
        return self.evaluation[SNAPSHOT_COLUMN].min()


def _purged_before(rows: pl.DataFrame, first_later: dt.date, purge_days: int) -> pl.DataFrame:
    """The rows whose label window (snapshot + purge) closed before `first_later`."""
    return rows.filter(pl.col(SNAPSHOT_COLUMN) + pl.duration(days=purge_days) < pl.lit(first_later))


def labelled_rows(churn: pl.DataFrame, window_days: int) -> pl.DataFrame:
    """Rows of feat_client_churn whose label for the window is observed (not NULL)."""
    return churn.filter(pl.col(label_column(window_days)).is_not_null())


def split_window(
    churn: pl.DataFrame,
    window_days: int,
    evaluation_fraction: float = EVALUATION_FRACTION,
    boundary_purge_days: int | None = None,
) -> WindowSplit:
    """The window's evaluation rows (latest labelled snapshots) and its training rows before them,
    boundary purged (see the module's docstring).

    `boundary_purge_days` defaults to the window. Raises InsufficientHistory when too few
    snapshots are labelled to split, or when fewer than two training snapshots survive the purge.
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
    training = _purged_before(earlier, first_evaluated, purge)
    if training[SNAPSHOT_COLUMN].n_unique() < 2:
        raise InsufficientHistory(
            f"fewer than two {window_days}-day snapshot dates lie more than {purge} days before "
            f"the evaluation window starting {first_evaluated}: the labelled history is too short "
            "to train"
        )
    return WindowSplit(window_days, purge, training, evaluation)


def sample_training_clients(split: WindowSplit, max_clients: int, seed: int) -> WindowSplit:
    """The split with its training rows limited to every snapshot of at most `max_clients`
    clients drawn at random (the evaluation rows untouched). Sampling clients rather than rows
    keeps each sampled client's whole time line, which the out-of-fold blocks and the purge need;
    the same seed and clients draw the same sample."""
    if max_clients < 1:
        raise ValueError(f"max_clients must be positive, got {max_clients}")
    clients = split.training["client_id"].unique().sort()
    if clients.len() <= max_clients:
        return split
    chosen = clients.sample(max_clients, seed=seed)
    training = split.training.filter(pl.col("client_id").is_in(chosen.implode()))
    return replace(split, training=training)
