import json
import pickle

import numpy as np
import polars as pl
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from roi_assets.churn.ensemble import ChurnEnsemble, registered_model_name
from roi_assets.churn.features import tabular_matrix
from roi_assets.churn.tiers import tier_index

from .synthetic import collapse_activity, with_activity_features


def test_each_out_of_fold_prediction_comes_from_members_trained_only_on_earlier_snapshots(
    ensemble,
):
    oof = ensemble.oof_
    purge = np.timedelta64(ensemble.purge_days, "D")

    assert len(oof.rows) > 0
    assert (oof.max_train_snapshot + purge < oof.snapshot_dates).all()
    for fold in ensemble.folds_:
        in_fold = oof.fold == fold.number
        assert (oof.max_train_snapshot[in_fold] < fold.train_before).all()


def test_the_meta_learner_is_fitted_on_the_out_of_fold_predictions_alone(ensemble):
    oof = ensemble.oof_

    refit = LogisticRegression().fit(oof.stack_inputs(), oof.labels)

    np.testing.assert_allclose(ensemble.meta_learner_.coef_, refit.coef_)
    np.testing.assert_allclose(ensemble.meta_learner_.intercept_, refit.intercept_)


def test_out_of_fold_forest_scores_are_not_the_final_forests_in_sample_scores(ensemble, world):
    oof = ensemble.oof_
    in_sample = ensemble.member_probabilities(
        world.churn.iloc[oof.rows], world.sequences[oof.rows]
    )["forest"]

    assert not np.allclose(in_sample, oof.forest)


def test_snapshots_without_purged_history_only_train(ensemble, world):
    dates = world.churn["snapshot_date"].to_numpy().astype("datetime64[D]")
    first_fold_start = min(ensemble.folds_[0].test_dates)

    assert set(ensemble.oof_.rows) == set(np.flatnonzero(dates >= first_fold_start))
    assert (dates < first_fold_start).any()


def test_the_forest_grown_on_every_core_is_the_one_core_forest_and_scores_on_one_job(
    ensemble, world
):
    one_core = RandomForestClassifier(random_state=ensemble.seed, **ensemble.rf_params).fit(
        tabular_matrix(world.churn), world.churn["churned_within_30d"].to_numpy()
    )

    assert ensemble.forest_.n_jobs == 1
    np.testing.assert_array_equal(
        ensemble.member_probabilities(world.churn, world.sequences)["forest"],
        one_core.predict_proba(tabular_matrix(world.churn))[:, 1],
    )


def test_member_probabilities_give_stack_forest_and_lstm_in_zero_one(ensemble, world):
    scores = ensemble.member_probabilities(world.churn, world.sequences)

    assert set(scores) == {"stack", "stack_uncalibrated", "forest", "lstm"}
    for values in scores.values():
        assert values.shape == (len(world.churn),)
        assert ((values >= 0) & (values <= 1)).all()
    np.testing.assert_array_equal(
        ensemble.predict_proba(world.churn, world.sequences), scores["stack"]
    )


def test_a_client_whose_activity_collapses_moves_to_a_higher_tier(ensemble, world):
    last = world.churn["snapshot_date"] == world.churn["snapshot_date"].max()
    steady = np.flatnonzero(last.to_numpy() & ~world.disengaging)
    before = ensemble.predict_proba(world.churn.iloc[steady], world.sequences[steady])
    client = steady[np.argmin(before)]

    collapsed = collapse_activity(world.sequences[[client]])
    after = ensemble.predict_proba(
        with_activity_features(world.churn.iloc[[client]], collapsed), collapsed
    )

    assert after[0] > before.min()
    assert tier_index(after[0]) > tier_index(before.min())


def test_a_saved_ensemble_loads_and_scores_identically(ensemble, world, tmp_path):
    ensemble.save(tmp_path / "model")

    loaded = ChurnEnsemble.load(tmp_path / "model")

    np.testing.assert_array_equal(
        loaded.predict_proba(world.churn, world.sequences),
        ensemble.predict_proba(world.churn, world.sequences),
    )
    assert loaded.window_days == 30 and loaded.folds_ == ensemble.folds_


def test_a_pickled_ensemble_scores_identically(ensemble, world):
    restored = pickle.loads(pickle.dumps(ensemble))

    np.testing.assert_array_equal(
        restored.predict_proba(world.churn, world.sequences),
        ensemble.predict_proba(world.churn, world.sequences),
    )


def test_fitting_rejects_rows_whose_label_is_not_yet_observed(world, tiny_lstm):
    labels = world.churn["churned_within_30d"].astype(float).to_numpy()
    labels[-1] = np.nan

    with pytest.raises(ValueError, match="not yet observed"):
        ChurnEnsemble(lstm_params=tiny_lstm).fit(
            world.churn, world.sequences, labels, world.churn["snapshot_date"]
        )


def test_each_window_has_its_own_registered_name():
    assert [registered_model_name(w) for w in (30, 60, 90)] == [
        "roi-churn-30d",
        "roi-churn-60d",
        "roi-churn-90d",
    ]


def test_polars_and_pandas_frames_score_the_same(ensemble, world):
    rows = np.arange(100)
    frame = world.churn.iloc[rows]

    np.testing.assert_array_equal(
        ensemble.predict_proba(pl.from_pandas(frame), world.sequences[rows]),
        ensemble.predict_proba(frame, world.sequences[rows]),
    )


def test_the_calibrator_is_fitted_on_the_latest_out_of_fold_block(ensemble):
    oof = ensemble.oof_
    latest = ensemble.folds_[-1]
    in_latest = oof.fold == latest.number

    assert set(ensemble.calibration_dates_) == set(latest.test_dates)
    assert ensemble.calibrator_.rows == in_latest.sum()
    assert ensemble.calibrator_.positives == oof.labels[in_latest].sum()


def test_the_calibrated_stack_is_a_monotone_map_that_matches_the_latest_blocks_churn_rate(
    ensemble, world
):
    scores = ensemble.member_probabilities(world.churn, world.sequences)
    oof = ensemble.oof_
    in_latest = oof.fold == ensemble.folds_[-1].number
    raw_latest = ensemble.meta_learner_.predict_proba(oof.stack_inputs()[in_latest])[:, 1]

    order = np.argsort(scores["stack_uncalibrated"])
    assert not np.allclose(scores["stack"], scores["stack_uncalibrated"])
    assert (np.diff(scores["stack"][order]) >= -1e-12).all()
    assert ensemble.calibrator_.transform(raw_latest).mean() == pytest.approx(
        oof.labels[in_latest].mean(), rel=0.02
    )


def test_a_saved_calibrated_ensemble_loads_with_its_calibrator(ensemble, world, tmp_path):
    ensemble.save(tmp_path / "model")

    loaded = ChurnEnsemble.load(tmp_path / "model")

    assert loaded.calibrator_ == ensemble.calibrator_
    np.testing.assert_array_equal(
        loaded.predict_proba(world.churn, world.sequences),
        ensemble.predict_proba(world.churn, world.sequences),
    )


def test_an_ensemble_saved_before_calibration_existed_still_loads(ensemble, world, tmp_path):
    saved = ensemble.save(tmp_path / "model")
    settings = json.loads((saved / "ensemble.json").read_text())
    settings["format_version"] = 1
    del settings["calibrator"]
    (saved / "ensemble.json").write_text(json.dumps(settings))

    loaded = ChurnEnsemble.load(saved)

    assert loaded.calibrator_ is None
    np.testing.assert_array_equal(
        loaded.predict_proba(world.churn, world.sequences),
        ensemble.member_probabilities(world.churn, world.sequences)["stack_uncalibrated"],
    )
