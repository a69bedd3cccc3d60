import numpy as np
import pandas as pd
import polars as pl
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from xgboost import XGBClassifier

from roi_assets.churn.ensemble import ChurnEnsemble
from roi_assets.churn.features import CHURN_FEATURES
from roi_assets.monitoring.explain.explanations import (
    CONTRIBUTION_COLUMNS,
    explain,
    global_importance,
    summary_plot_png,
    tree_view,
)

NUMERIC = ["driver", "noise_a", "noise_b", "flag"]


def _frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """`driver` alone decides the label; the other columns are noise."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "client_id": [f"C{i:04d}" for i in range(n)],
            "driver": rng.normal(size=n),
            "noise_a": rng.normal(size=n),
            "noise_b": rng.normal(size=n),
            "flag": rng.random(n) < 0.5,
            "region": rng.choice(["north", "south", "west"], n),
        }
    )
    labels = (frame["driver"] + 0.3 * rng.normal(size=n) > 0).astype(int).to_numpy()
    return frame, labels


@pytest.fixture(scope="module")
def served_engagement_like_model():
    """Shaped like the served engagement model: threshold → calibration → frozen Pipeline of
    ColumnTransformer, SelectKBest and XGBoost."""
    frame, labels = _frame(600, seed=1)
    pipeline = Pipeline(
        [
            (
                "preprocessor",
                ColumnTransformer(
                    [
                        ("num", StandardScaler(), NUMERIC),
                        ("cat", OneHotEncoder(drop="first", sparse_output=False), ["region"]),
                    ]
                ),
            ),
            ("feature_selection", SelectKBest(f_classif, k=4)),
            ("classifier", XGBClassifier(n_estimators=30, max_depth=3, n_jobs=1)),
        ]
    ).fit(frame[[*NUMERIC, "region"]], labels)
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipeline)).fit(
        frame[[*NUMERIC, "region"]], labels
    )
    return FixedThresholdClassifier(calibrated, threshold=0.5).fit(
        frame[[*NUMERIC, "region"]], labels
    )


def test_global_importance_ranks_the_feature_that_drives_the_target_first(
    served_engagement_like_model,
):
    view = tree_view(served_engagement_like_model)
    frame, _ = _frame(200, seed=2)

    importance, values = global_importance(view, view.matrix(frame))

    assert importance["feature"][0] == "driver"
    assert importance["rank"].to_list() == list(range(1, len(view.feature_names) + 1))
    assert importance["mean_abs_shap"][0] > 3 * importance["mean_abs_shap"][1]
    assert values.shape == (200, len(view.feature_names))


def test_global_importance_carries_a_95_percent_interval_that_narrows_with_more_rows(
    served_engagement_like_model,
):
    view = tree_view(served_engagement_like_model)
    few, _ = global_importance(view, view.matrix(_frame(50, seed=2)[0]))
    many, _ = global_importance(view, view.matrix(_frame(800, seed=2)[0]))

    for importance in (few, many):
        assert (importance["mean_abs_shap_ci_low"] <= importance["mean_abs_shap"]).all()
        assert (importance["mean_abs_shap"] <= importance["mean_abs_shap_ci_high"]).all()
    driver = [
        frame.filter(pl.col("feature") == "driver").select(
            pl.col("mean_abs_shap_ci_high") - pl.col("mean_abs_shap_ci_low")
        )[0, 0]
        for frame in (few, many)
    ]
    assert driver[1] < driver[0] / 2  # sixteen times the rows: about a quarter of the width


def test_names_are_mapped_back_through_the_pipeline_to_the_selected_columns(
    served_engagement_like_model,
):
    view = tree_view(served_engagement_like_model)

    assert len(view.feature_names) == 4
    assert "driver" in view.feature_names
    assert all("__" not in name for name in view.feature_names)
    assert view.units == "log-odds"


def test_shap_contributions_per_client_are_signed_and_ranked(served_engagement_like_model):
    frame, _ = _frame(50, seed=3)
    frame.loc[0, "driver"], frame.loc[1, "driver"] = 3.0, -3.0

    found = explain(served_engagement_like_model, frame, top_k=2)

    assert tuple(found.columns) == CONTRIBUTION_COLUMNS
    assert found.height == 100
    first = found.filter(found["client_id"] == "C0000").sort("rank")
    second = found.filter(found["client_id"] == "C0001").sort("rank")
    assert first["feature"][0] == "driver" and first["contribution"][0] > 0
    assert second["feature"][0] == "driver" and second["contribution"][0] < 0
    assert (first["contribution"].abs().diff().drop_nulls() <= 0).all()


def test_lime_returns_the_requested_number_of_features_per_client(served_engagement_like_model):
    frame, _ = _frame(300, seed=4)

    found = explain(
        served_engagement_like_model,
        frame.head(3),
        method="lime",
        top_k=3,
        background=frame,
    )

    assert found.group_by("client_id").len()["len"].to_list() == [3, 3, 3]
    assert set(found["client_id"]) == {"C0000", "C0001", "C0002"}
    assert found.filter(found["rank"] == 1)["feature"].to_list() == ["driver"] * 3


def test_lime_without_background_rows_is_refused(served_engagement_like_model):
    frame, _ = _frame(5, seed=5)

    with pytest.raises(ValueError, match="background"):
        explain(served_engagement_like_model, frame, method="lime")


def test_a_churn_ensemble_is_explained_through_its_forest_on_the_named_features():
    rng = np.random.default_rng(6)
    features = rng.normal(size=(400, len(CHURN_FEATURES)))
    labels = (features[:, CHURN_FEATURES.index("integration_count")] < 0).astype(int)
    ensemble = ChurnEnsemble()
    ensemble.forest_ = RandomForestClassifier(n_estimators=20, random_state=0).fit(features, labels)
    rows = pd.DataFrame(features[:100], columns=list(CHURN_FEATURES))

    view = tree_view(ensemble)
    importance, _ = global_importance(view, view.matrix(rows))

    assert view.feature_names == CHURN_FEATURES
    assert view.units == "probability"
    assert importance["feature"][0] == "integration_count"


def test_the_summary_plot_is_a_png(served_engagement_like_model):
    view = tree_view(served_engagement_like_model)
    frame, _ = _frame(100, seed=7)
    matrix = view.matrix(frame)
    _, values = global_importance(view, matrix)

    png = summary_plot_png(values, matrix, view.feature_names, "synthetic")

    assert png.startswith(b"\x89PNG")
