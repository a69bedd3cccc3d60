"""Training one window's ensemble within a time budget, as the pipeline and the benchmark do it.

The budget's defaults train all three windows in about three minutes on 2 CPU cores at the default
scale. The LSTM dominates: on a CPU core the specification's network costs about 0.7 ms per
training row and epoch, so its training rows, epochs and early-stopping patience are capped, and
two out-of-fold blocks (each block trains one more forest and one more LSTM) are the fewest that
still give the meta-learner predictions from more than one training cut-off. The network's shape
and the forest's settings stay the specification's; only the forest's tree count is adjustable,
for tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from roi_assets.churn.calibration import DEFAULT_METHOD
from roi_assets.churn.ensemble import ChurnEnsemble
from roi_assets.churn.features import build_sequences
from roi_assets.churn.folds import longest_feasible_purge
from roi_assets.churn.sequence_model import LSTMParams
from roi_assets.churn.splits import SNAPSHOT_COLUMN, WindowSplit


@dataclass(frozen=True)
class TrainingBudget:
    """How much training each window gets (see the module's docstring for the defaults)."""

    n_folds: int = 2
    forest_n_estimators: int = 300
    # The LSTM carries most of the stack's signal. On the default world (seed 7), 8,000 rows and 6
    # epochs instead of 4,000 and 4 took the 60-day stack from 41-42 % of the oracle's lift
    # (training seeds 0-1) to 60-63 % (seeds 0-2) and left the 30-day one at 62-63 % (61.5-63 %
    # before), for about a minute more over three windows. The 90-day stack, with 5 training
    # snapshots, went from 56 % to 50 % on seed 0. 12,000 rows and 8 epochs added nothing at 30
    # days for twice the time.
    lstm_max_epochs: int = 6
    lstm_patience: int = 2
    lstm_batch_size: int = 256
    lstm_max_train_rows: int = 8_000
    seed: int = 0

    def ensemble(self, window_days: int, purge_days: int) -> ChurnEnsemble:
        """An unfitted ensemble for the window with this budget."""
        return ChurnEnsemble(
            window_days=window_days,
            seed=self.seed,
            rf_params={"n_estimators": self.forest_n_estimators},
            lstm_params=LSTMParams(
                max_epochs=self.lstm_max_epochs,
                patience=self.lstm_patience,
                batch_size=self.lstm_batch_size,
                max_train_rows=self.lstm_max_train_rows,
            ),
            n_folds=self.n_folds,
            purge_days=purge_days,
        )


def train_window(
    split: WindowSplit,
    daily: pl.DataFrame,
    budget: TrainingBudget,
    calibration_method: str = DEFAULT_METHOD,
) -> tuple[ChurnEnsemble, np.ndarray]:
    """The window's ensemble fitted and calibrated on the split's training rows, and the training
    rows' sequences.

    The out-of-fold purge is the window, or the longest the training history allows (see
    `folds.longest_feasible_purge`). Raises InsufficientHistory when the rows cannot be folded.
    """
    training = split.training
    sequences = build_sequences(daily, training)
    purge_days = longest_feasible_purge(
        training[SNAPSHOT_COLUMN], split.window_days, budget.n_folds
    )
    ensemble = budget.ensemble(split.window_days, purge_days)
    ensemble.fit(
        training,
        sequences,
        training[split.label],
        training[SNAPSHOT_COLUMN],
        calibration_method,
    )
    return ensemble, sequences
