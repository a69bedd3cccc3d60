import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from roi_assets.engagement.model import (
    SPECIFICATION_PARAM_GRID,
    predict,
    predict_proba,
    train_engagement_model,
)
from roi_assets.evaluation.binary_metrics import choose_threshold
from roi_assets.evaluation.oracle_comparison import base_rate_scores, compare_with_oracle
from roi_assets.evaluation.windows import TimeWindow

from .conftest import TINY_GRID


def test_the_model_beats_the_base_rate_on_a_later_window(trained, train_and_evaluation):
    train_rows, later = train_and_evaluation
    outcomes = later["opened_within_7d"].to_numpy()

    comparison = compare_with_oracle(
        outcomes,
        predict_proba(trained, later),
        later["true_open_probability"].to_numpy(),
        {"base_rate": base_rate_scores(train_rows["opened_within_7d"], later.height)},
        model_name="roi-engagement-open",
        model_version="test",
        model_threshold=trained.threshold,
        evaluation_window=TimeWindow.covering(later["sent_at"]),
    )

    assert comparison.value("auc_roc") > 0.65
    assert comparison.value("brier_score") < comparison.value("brier_score", "base_rate")
    assert comparison.value("auc_roc") < comparison.value("auc_roc", "oracle")


def test_training_windows_precede_each_other(trained, train_and_evaluation):
    assert trained.fit_window.end < trained.validation_window.start
    assert trained.validation_window.end < train_and_evaluation[1]["sent_at"].min()


def test_scale_pos_weight_is_negatives_per_positive_of_the_fitting_rows(
    trained, train_and_evaluation
):
    fit_rows = trained.fit_window.rows_of(train_and_evaluation[0], "sent_at")
    positives = fit_rows["opened_within_7d"].sum()

    assert trained.scale_pos_weight == pytest.approx((fit_rows.height - positives) / positives)
    assert trained.scale_pos_weight > 2  # about a quarter of the sends are opened
    pipeline = trained.estimator.estimator.calibrated_classifiers_[0].estimator.estimator
    assert pipeline.named_steps["classifier"].get_params()["scale_pos_weight"] == pytest.approx(
        trained.scale_pos_weight
    )


def test_the_threshold_is_chosen_on_the_validation_slice(trained, train_and_evaluation):
    validation = trained.validation_window.rows_of(train_and_evaluation[0], "sent_at")

    expected = choose_threshold(
        validation["opened_within_7d"].to_numpy(), predict_proba(trained, validation)
    )

    assert trained.threshold == pytest.approx(expected)
    assert trained.threshold != pytest.approx(0.5, abs=0.05)


def test_decisions_apply_the_chosen_threshold(trained, train_and_evaluation):
    later = train_and_evaluation[1]

    decisions = predict(trained, later)

    np.testing.assert_array_equal(
        decisions, (predict_proba(trained, later) >= trained.threshold).astype(int)
    )


def test_probabilities_are_calibrated_on_average(trained, train_and_evaluation):
    later = train_and_evaluation[1]

    mean_probability = predict_proba(trained, later).mean()

    assert mean_probability == pytest.approx(later["opened_within_7d"].mean(), abs=0.05)


def test_an_unseen_category_is_scored_like_the_reference_category(trained, world):
    rows = world.frame.head(5)
    reference = rows.with_columns(transaction_stage=pl.lit("prospecting"))
    unseen = rows.with_columns(transaction_stage=pl.lit("foreclosure"))

    with pytest.warns(UserWarning, match="unknown categories"):
        scores = predict_proba(trained, unseen)

    np.testing.assert_allclose(scores, predict_proba(trained, reference))


def test_scoring_names_a_missing_column(trained, world):
    with pytest.raises(ValueError, match="cta_style"):
        predict_proba(trained, world.frame.head(5).drop("cta_style"))


def test_scoring_names_a_column_holding_nan(trained, world):
    rows = world.frame.head(3).with_columns(
        recent_open_rate_30d=pl.Series([0.2, float("nan"), 0.4])
    )

    with pytest.raises(ValueError, match="recent_open_rate_30d"):
        predict_proba(trained, rows)


def test_only_label_complete_rows_are_learnt_from(world):
    model = train_engagement_model(world.frame, param_grid=TINY_GRID, n_splits=2)

    assert model.n_fit_rows + model.n_validation_rows == world.frame["label_complete"].sum()
    last_complete = world.frame.filter(pl.col("label_complete"))["sent_at"].max()
    assert model.validation_window.end == last_complete


def test_the_click_target_trains_too(train_and_evaluation):
    model = train_engagement_model(
        train_and_evaluation[0], "clicked_within_7d", param_grid=TINY_GRID, n_splits=2
    )

    assert model.target == "clicked_within_7d"
    assert model.validation_metrics["auc_roc"] > 0.55


def test_the_action_target_trains_and_ranks_the_later_window(train_and_evaluation):
    training, evaluation = train_and_evaluation
    model = train_engagement_model(training, "acted_within_7d", param_grid=TINY_GRID, n_splits=2)

    assert model.target == "acted_within_7d"
    outcomes = evaluation["acted_within_7d"].to_numpy()
    assert 0 < outcomes.sum() < len(outcomes)
    assert roc_auc_score(outcomes, predict_proba(model, evaluation)) > 0.6


def test_the_search_reports_every_grid_point(trained):
    assert trained.cv_results.height == 1
    assert trained.best_params == {name: values[0] for name, values in TINY_GRID.items()}
    assert 0.5 < trained.best_cv_auc <= 1.0
    assert len(trained.selected_features) == 30


def test_a_refit_without_cross_validation_is_the_searched_model_without_its_folds(
    trained, train_and_evaluation
):
    refit = train_engagement_model(train_and_evaluation[0], param_grid=TINY_GRID, n_splits=0)

    later = train_and_evaluation[1]
    expected = predict_proba(trained, later)
    np.testing.assert_allclose(predict_proba(refit, later), expected, atol=1e-6)
    assert refit.best_params == trained.best_params
    assert np.isnan(refit.best_cv_auc)


def test_a_refit_without_cross_validation_refuses_a_grid_to_choose_from(train_and_evaluation):
    grid = {**TINY_GRID, "classifier__max_depth": [3, 4]}

    with pytest.raises(ValueError, match="one-point grid"):
        train_engagement_model(train_and_evaluation[0], param_grid=grid, n_splits=0)


def test_the_default_grid_is_the_specification_full_grid():
    assert SPECIFICATION_PARAM_GRID == {
        "classifier__n_estimators": [100, 200, 300],
        "classifier__max_depth": [4, 6, 8],
        "classifier__learning_rate": [0.05, 0.1, 0.15],
    }


def test_training_is_reproducible_with_a_seed(trained, train_and_evaluation):
    again = train_engagement_model(train_and_evaluation[0], param_grid=TINY_GRID, n_splits=2)

    later = train_and_evaluation[1]
    np.testing.assert_array_equal(predict_proba(again, later), predict_proba(trained, later))


def test_a_daily_refit_reuses_the_point_the_latest_search_chose():
    from roi_assets.engagement.model import best_point_grid

    fallback = {"classifier__n_estimators": [100], "classifier__learning_rate": [0.1]}
    logged = {"classifier__n_estimators": "300", "classifier__learning_rate": "0.05", "x": "1"}
    assert best_point_grid(logged, fallback) == {
        "classifier__n_estimators": [300],
        "classifier__learning_rate": [0.05],
    }


def test_a_refit_before_any_search_uses_the_default_point():
    from roi_assets.engagement.model import best_point_grid

    fallback = {"classifier__n_estimators": [100]}
    assert best_point_grid({}, fallback) == fallback
