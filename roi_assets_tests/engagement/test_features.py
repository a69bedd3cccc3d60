import numpy as np
import polars as pl
import pytest

from roi_assets.engagement.features import (
    CATEGORICAL_FEATURES,
    ENCODED_FEATURE_COUNT,
    ENGAGEMENT_FEATURES,
    NUMERIC_FEATURES,
    build_preprocessor,
    engagement_features,
    labelled_history,
)


def test_the_specification_thirty_plus_four_extras_are_the_features():
    assert len(ENGAGEMENT_FEATURES) == 34
    assert {"hour_of_week", "subject_line_variant", "email_template", "cta_style"} <= set(
        ENGAGEMENT_FEATURES
    )
    assert not {"age_group", "client_value_tier", "segment"} & set(ENGAGEMENT_FEATURES)


def test_model_input_has_the_features_in_order_as_numbers_and_strings(world):
    features = engagement_features(world.frame.head(10))

    assert tuple(features.columns) == ENGAGEMENT_FEATURES
    assert all(features[name].dtype == np.float64 for name in NUMERIC_FEATURES)
    assert all(features[name].dtype == object for name in CATEGORICAL_FEATURES)
    assert features["is_weekend"].isin([0.0, 1.0]).all()


def test_pandas_frames_are_accepted_like_polars_ones(world):
    rows = world.frame.head(10)

    from_pandas = engagement_features(rows.to_pandas())

    assert from_pandas.equals(engagement_features(rows))


def test_a_missing_column_is_named(world):
    with pytest.raises(ValueError, match=r"missing feature column.*recent_open_rate_7d"):
        engagement_features(world.frame.head(5).drop("recent_open_rate_7d"))


def test_a_nan_or_null_is_named_with_its_column(world):
    rows = world.frame.head(5)
    with_nan = rows.with_columns(
        personalization_score=pl.Series([0.1, float("nan"), 0.3, 0.4, 0.5])
    )
    with_null = rows.with_columns(client_type=pl.Series(["buyer", None, "seller", "both", "buyer"]))

    with pytest.raises(ValueError, match="'personalization_score' has 1 missing"):
        engagement_features(with_nan)
    with pytest.raises(ValueError, match="'client_type' has 1 missing"):
        engagement_features(with_null)


def test_a_wrong_type_is_named_with_its_column(world):
    rows = world.frame.head(3)
    text_in_numeric = rows.with_columns(subject_length=pl.Series(["40", "50", "60"]))
    number_in_categorical = rows.with_columns(cta_style=pl.Series([1, 2, 3]))

    with pytest.raises(ValueError, match="'subject_length' must be numeric"):
        engagement_features(text_in_numeric)
    with pytest.raises(ValueError, match="'cta_style' must hold strings"):
        engagement_features(number_in_categorical)


def test_infinite_numbers_are_refused(world):
    rows = world.frame.head(2).with_columns(account_age_days=pl.Series([1.0, float("inf")]))

    with pytest.raises(ValueError, match="'account_age_days' holds infinite"):
        engagement_features(rows)


def test_the_encoded_layout_does_not_depend_on_the_values_seen(world):
    one_region = world.frame.filter(pl.col("geographic_region") == "west").head(200)

    encoded = build_preprocessor().fit_transform(engagement_features(one_region))

    assert encoded.shape == (200, ENCODED_FEATURE_COUNT)


def test_the_history_keeps_only_label_complete_rows_in_time_order(world):
    shuffled = world.frame.sample(fraction=1.0, shuffle=True, seed=1)

    history = labelled_history(shuffled, "opened_within_7d")

    assert history.height == world.frame["label_complete"].sum()
    assert history["sent_at"].is_sorted()


def test_the_history_is_the_same_whatever_order_the_warehouse_returns_rows_in(world):
    # sends of one moment, as a daily campaign makes them
    same_moment = world.frame.with_columns(pl.col("sent_at").dt.truncate("1h"))
    orders = [same_moment.sample(fraction=1.0, shuffle=True, seed=seed) for seed in (1, 2)]

    first, second = (labelled_history(frame, "opened_within_7d") for frame in orders)

    assert first["sent_at"].n_unique() < first.height
    assert first.equals(second)


def test_an_unknown_target_is_refused(world):
    with pytest.raises(ValueError, match="unknown target"):
        labelled_history(world.frame, "converted_within_7d")
