"""The compiled engagement scorer gives the logged pipeline's probabilities, row by row and in
batch, and travels with the model version in MLflow."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest

from roi_assets.compiled_scoring import compile_model, load_compiled, log_compiled
from roi_assets.compiled_scoring.encoding import NotCompilable
from roi_assets.engagement.features import ENGAGEMENT_FEATURES, engagement_features
from roi_assets.engagement.model import predict, predict_proba, train_engagement_model
from roi_assets.resources.tracking import log_sklearn_model, registered_version

from .conftest import TINY_GRID

TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def compiled(trained, tmp_path_factory):
    return compile_model(trained.estimator, tmp_path_factory.mktemp("compiled"))


def test_batch_probabilities_match_the_pipeline_on_evaluation_rows(
    compiled, trained, train_and_evaluation
):
    evaluation = train_and_evaluation[1]
    expected = predict_proba(trained, evaluation)
    np.testing.assert_allclose(compiled.predict_frame(evaluation), expected, rtol=0, atol=TOLERANCE)


def test_one_row_at_a_time_matches_the_pipeline(compiled, trained, train_and_evaluation):
    rows = train_and_evaluation[1].head(200)
    expected = predict_proba(trained, rows)
    got = [
        compiled.predict_row(row) for row in rows.select(ENGAGEMENT_FEATURES).iter_rows(named=True)
    ]
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_decisions_use_the_models_threshold(compiled, trained, train_and_evaluation):
    evaluation = train_and_evaluation[1]
    decisions = compiled.decide(compiled.predict_frame(evaluation))
    assert compiled.threshold == pytest.approx(trained.threshold)
    assert (decisions == predict(trained, evaluation)).mean() > 0.999


def test_isotonic_calibration_compiles_to_the_same_probabilities(train_and_evaluation, tmp_path):
    training, evaluation = train_and_evaluation
    isotonic = train_engagement_model(
        training, param_grid=TINY_GRID, n_splits=2, calibration_method="isotonic"
    )
    compiled = compile_model(isotonic.estimator, tmp_path)
    np.testing.assert_allclose(
        compiled.predict_frame(evaluation),
        predict_proba(isotonic, evaluation),
        rtol=0,
        atol=TOLERANCE,
    )


def test_an_unknown_category_scores_like_the_pipeline(compiled, trained, world):
    row = engagement_features(world.frame.head(1)).iloc[0].to_dict()
    row["geographic_region"] = "atlantis"
    frame = engagement_features(world.frame.head(1)).assign(geographic_region="atlantis")
    with pytest.warns(UserWarning):
        expected = trained.estimator.predict_proba(frame)[:, 1]
    assert compiled.predict_row(row) == pytest.approx(expected[0], abs=TOLERANCE)


@pytest.mark.parametrize(
    ("kind", "value"), [("any", None), ("numeric", float("nan")), ("numeric", "9"), ("category", 3)]
)
def test_a_missing_or_mistyped_value_is_refused_naming_the_feature(compiled, world, kind, value):
    encoding = compiled.encoding
    feature = {
        "any": encoding.input_columns[0],
        "numeric": encoding.numeric_columns[0],
        "category": encoding.categorical_columns[0],
    }[kind]
    row = engagement_features(world.frame.head(1)).iloc[0].to_dict()
    row[feature] = value
    with pytest.raises(ValueError, match=feature):
        compiled.predict_row(row)


def test_a_model_the_compiler_does_not_know_is_refused(tmp_path):
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(NotCompilable):
        compile_model(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), tmp_path)


def test_the_compiled_form_travels_with_the_registered_version(
    store, trained, world, train_and_evaluation
):
    with mlflow.start_run():
        info = log_sklearn_model(
            trained.estimator,
            name="model",
            input_example=engagement_features(world.frame.head(5)),
            registered_model_name="roi-engagement-compiled",
        )
        log_compiled(info, trained.estimator)
    version = registered_version(info)
    loaded = load_compiled(f"models:/roi-engagement-compiled/{version}")
    evaluation = train_and_evaluation[1]
    np.testing.assert_allclose(
        loaded.predict_frame(evaluation), predict_proba(trained, evaluation), rtol=0, atol=TOLERANCE
    )


def test_a_version_logged_without_a_compiled_form_has_none(store, trained, world):
    with mlflow.start_run():
        info = log_sklearn_model(
            trained.estimator,
            name="model",
            input_example=engagement_features(world.frame.head(5)),
            registered_model_name="roi-engagement-uncompiled",
        )
    assert load_compiled(f"models:/roi-engagement-uncompiled/{registered_version(info)}") is None


def test_a_polars_batch_encodes_bit_for_bit_as_a_pandas_one(compiled, train_and_evaluation):
    import pandas as pd
    import polars as pl

    evaluation = train_and_evaluation[1]
    frame = evaluation if isinstance(evaluation, pd.DataFrame) else evaluation.to_pandas()
    frame = frame[list(compiled.encoding.input_columns)]
    for dtype in (np.float32, np.float64):
        from_polars = compiled.encoding.encode_frame(pl.from_pandas(frame), dtype)
        assert from_polars.dtype == dtype and from_polars.flags.c_contiguous
        np.testing.assert_array_equal(from_polars, compiled.encoding.encode_frame(frame, dtype))


@pytest.mark.parametrize("value", [None, float("nan"), float("inf")])
def test_a_polars_batch_with_a_missing_number_is_refused_naming_the_column(
    compiled, train_and_evaluation, value
):
    import polars as pl

    rows = train_and_evaluation[1]
    frame = (rows if isinstance(rows, pl.DataFrame) else pl.from_pandas(rows)).head(5)
    column = compiled.encoding.numeric_columns[0]
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit(value, dtype=pl.Float64))
        .otherwise(pl.col(column).cast(pl.Float64))
        .alias(column)
    )
    with pytest.raises(ValueError, match=column):
        compiled.predict_frame(frame)
