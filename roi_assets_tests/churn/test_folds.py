import numpy as np
import pytest

from roi_assets.churn.folds import InsufficientHistory, longest_feasible_purge, time_ordered_folds

WEEKLY = np.datetime64("2024-01-01") + 7 * np.arange(10)


def test_folds_train_only_on_snapshots_more_than_the_purge_before_the_fold():
    folds = time_ordered_folds(WEEKLY, n_folds=3, purge_days=30)

    for fold in folds:
        train_dates = WEEKLY[fold.train_mask(WEEKLY)]
        assert len(train_dates) > 0
        assert (train_dates + np.timedelta64(30, "D") < min(fold.test_dates)).all()


def test_every_date_with_enough_history_is_scored_out_of_fold_exactly_once():
    folds = time_ordered_folds(WEEKLY, n_folds=3, purge_days=30)

    scored = np.concatenate([WEEKLY[fold.test_mask(WEEKLY)] for fold in folds])

    # 2024-02-05 is the first Monday more than 30 days after 2024-01-01.
    np.testing.assert_array_equal(scored, WEEKLY[5:])
    assert len(folds) == 3


def test_a_history_too_short_for_the_purge_is_an_error():
    with pytest.raises(ValueError, match="90 days"):
        time_ordered_folds(WEEKLY, n_folds=3, purge_days=90)


def test_the_purge_stays_the_window_when_the_history_allows_it():
    assert longest_feasible_purge(WEEKLY, window_days=30, n_folds=3) == 30


def test_a_history_too_short_for_the_window_gets_the_longest_purge_that_leaves_the_folds():
    five_weeks = WEEKLY[:5]  # 28 days from first to last snapshot

    purge = longest_feasible_purge(five_weeks, window_days=90, n_folds=2)
    folds = time_ordered_folds(five_weeks, n_folds=2, purge_days=purge)

    # Scoring the last two dates needs a training date more than `purge` days before the
    # earlier one (day 21): purges up to 20 days allow it, 21 does not.
    assert purge == 20
    assert len(folds) == 2
    for fold in folds:
        train_dates = five_weeks[fold.train_mask(five_weeks)]
        assert (train_dates + np.timedelta64(purge, "D") < min(fold.test_dates)).all()


def test_a_single_snapshot_date_has_no_feasible_purge():
    with pytest.raises(InsufficientHistory):
        longest_feasible_purge(WEEKLY[:1], window_days=30, n_folds=2)
