import numpy as np
import polars as pl
import pytest
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from roi_assets.engagement.model import (
    build_engagement_pipeline,
    class_balance_weight,
    training_slices,
)
from roi_assets.engagement.search import search_shared_rounds

# Two round counts that share their fits, two points that do not, and the order a grid is written
# in (round counts last, unsorted) to show the result does not depend on it.
GRID = {
    "classifier__max_depth": [2, 3],
    "classifier__learning_rate": [0.1],
    "classifier__n_estimators": [15, 5],
}


@pytest.fixture(scope="module")
def slices(train_and_evaluation):
    return training_slices(train_and_evaluation[0], "opened_within_7d")


@pytest.fixture(scope="module")
def pipeline(slices):
    return build_engagement_pipeline(class_balance_weight(slices.fit_labels))


@pytest.fixture(scope="module")
def plain(pipeline, slices):
    return GridSearchCV(
        pipeline, GRID, cv=TimeSeriesSplit(n_splits=3), scoring="roc_auc", refit=False
    ).fit(slices.fit_features, slices.fit_labels)


@pytest.fixture(scope="module")
def shared(pipeline, slices):
    return search_shared_rounds(
        pipeline, GRID, slices.fit_features, slices.fit_labels, n_splits=3, n_jobs=1
    )


def test_every_grid_point_gets_the_plain_searchs_cross_validated_auc(plain, shared):
    expected = {
        tuple(sorted(params.items())): (mean, std, rank)
        for params, mean, std, rank in zip(
            plain.cv_results_["params"],
            plain.cv_results_["mean_test_score"],
            plain.cv_results_["std_test_score"],
            plain.cv_results_["rank_test_score"],
            strict=True,
        )
    }

    assert shared.cv_results.height == len(expected) == 4
    for row in shared.cv_results.iter_rows(named=True):
        point = tuple(sorted((name, row[name]) for name in GRID))
        mean, std, rank = expected[point]
        assert row["mean_cv_auc"] == pytest.approx(mean, abs=1e-12)
        assert row["std_cv_auc"] == pytest.approx(std, abs=1e-12)
        assert row["rank"] == rank


def test_the_best_point_is_the_plain_searchs_choice(plain, shared):
    best = int(np.argmin(plain.cv_results_["rank_test_score"]))

    assert shared.best_params == plain.cv_results_["params"][best]
    assert shared.best_cv_auc == pytest.approx(plain.cv_results_["mean_test_score"][best])


def test_points_differing_only_in_rounds_share_one_fit(shared):
    fit_seconds = shared.cv_results.group_by("classifier__max_depth").agg(
        distinct=pl.col("mean_fit_seconds").n_unique()
    )

    assert fit_seconds["distinct"].to_list() == [1, 1]


def test_a_grid_without_round_counts_is_refused(pipeline, slices):
    grid = {name: values for name, values in GRID.items() if name != "classifier__n_estimators"}

    with pytest.raises(KeyError, match="n_estimators"):
        search_shared_rounds(
            pipeline, grid, slices.fit_features, slices.fit_labels, n_splits=3, n_jobs=1
        )
