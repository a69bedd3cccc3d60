import numpy as np
import polars as pl

from roi_assets.churn.features import build_sequences
from roi_assets.churn.splits import split_window
from roi_assets.churn.training import TrainingBudget, train_window

SMALL = TrainingBudget(
    forest_n_estimators=20, lstm_max_epochs=1, lstm_batch_size=64, lstm_max_train_rows=300
)


def test_a_90_day_window_on_a_short_history_trains_with_a_shorter_recorded_purge(world):
    churn = pl.from_pandas(world.churn).with_columns(pl.col("snapshot_date").cast(pl.Date))
    daily = pl.from_pandas(world.daily)
    split = split_window(churn, 90, boundary_purge_days=0)  # six weekly snapshots to train on

    ensemble, sequences = train_window(split, daily, SMALL)

    oof = ensemble.oof_
    purge = np.timedelta64(ensemble.purge_days, "D")
    assert 0 < ensemble.purge_days < 90
    assert (oof.max_train_snapshot + purge < oof.snapshot_dates).all()
    assert sequences.shape == (split.training.height, 30, 15)
    evaluated = ensemble.predict_proba(split.evaluation, build_sequences(daily, split.evaluation))
    assert evaluated.shape == (split.evaluation.height,) and np.isfinite(evaluated).all()
