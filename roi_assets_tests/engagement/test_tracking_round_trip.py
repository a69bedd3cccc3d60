"""The engagement model through MLflow: logged, registered, promoted by alias and loaded back.

Everything lives in a temporary sqlite store and artifact folder (ROI_DATA_DIR points there), never
in the product's data/ folder.
"""

from __future__ import annotations

import mlflow
import mlflow.sklearn
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from roi_assets.engagement.features import ENGAGEMENT_FEATURES, engagement_features
from roi_assets.engagement.model import predict_proba
from roi_assets.resources.tracking import (
    CHALLENGER,
    CHAMPION,
    load_model_by_alias,
    log_png,
    log_sklearn_model,
    previous_champion,
    promote_to_challenger,
    promote_to_champion,
    registered_version,
    set_alias,
    skops_trusted_types,
    version_behind_alias,
)

MODEL_NAME = "roi-engagement-open"


@pytest.fixture(scope="module")
def logged(store, trained, world):
    input_example = engagement_features(world.frame.head(5))
    with mlflow.start_run() as run:
        info = log_sklearn_model(
            trained.estimator,
            name="model",
            input_example=input_example,
            registered_model_name=MODEL_NAME,
        )
        log_png(b"\x89PNG\r\n\x1a\n", "plots/reliability.png")
    return info, run.info.run_id


def test_the_store_and_artifacts_live_under_the_data_folder(store, logged):
    assert mlflow.get_tracking_uri() == f"sqlite:///{store.name}/mlflow.db"
    assert (store / "mlflow.db").exists()
    assert list((store / "mlartifacts").rglob("model.skops"))


def test_a_registered_model_loads_back_by_alias_and_scores_the_same(logged, trained, world):
    info, _ = logged
    assert promote_to_challenger(MODEL_NAME, registered_version(info)) == (CHALLENGER, CHAMPION)
    rows = world.frame.slice(100, 50)
    expected = predict_proba(trained, rows)

    as_pyfunc = load_model_by_alias(MODEL_NAME, CHAMPION)
    as_sklearn = load_model_by_alias(MODEL_NAME, CHAMPION, mlflow.sklearn.load_model)

    np.testing.assert_allclose(as_pyfunc.predict(engagement_features(rows))[:, 1], expected)
    np.testing.assert_allclose(predict_proba(as_sklearn, rows), expected)
    assert as_sklearn.threshold == pytest.approx(trained.threshold)


def test_the_logged_model_carries_a_signature_of_the_features(logged):
    info, _ = logged

    assert [column.name for column in info.signature.inputs] == list(ENGAGEMENT_FEATURES)


def test_skops_is_told_to_trust_the_model_own_types_only(trained):
    trusted = skops_trusted_types(trained.estimator)

    assert "xgboost.core.Booster" in trusted
    assert "sklearn.feature_selection._univariate_selection.f_classif" in trusted
    assert not any(name.startswith(("builtins.", "os.", "subprocess.")) for name in trusted)


def test_a_deployment_that_forbids_deserialisation_is_obeyed(logged, monkeypatch):
    set_alias(MODEL_NAME, "audited", registered_version(logged[0]))
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")

    with pytest.raises(MlflowException, match="DESERIALIZATION"):
        load_model_by_alias(MODEL_NAME, "audited", mlflow.sklearn.load_model)


def test_later_versions_become_challenger_and_the_outgoing_champion_is_kept(logged):
    info, _ = logged
    name = "roi-engagement-promotion-test"
    first = mlflow.register_model(info.model_uri, name).version
    second = mlflow.register_model(info.model_uri, name).version

    assert promote_to_challenger(name, first) == (CHALLENGER, CHAMPION)
    assert promote_to_challenger(name, second) == (CHALLENGER,)
    assert version_behind_alias(name, CHAMPION, MlflowClient()) == str(first)
    assert version_behind_alias(name, CHALLENGER) == str(second)
    assert previous_champion(name) is None

    assert promote_to_champion(name, second) == str(first)
    assert version_behind_alias(name, CHAMPION) == str(second)
    assert previous_champion(name) == str(first)


def test_an_alias_never_set_points_at_no_version(store):
    assert version_behind_alias(MODEL_NAME, "shadow") is None
    assert version_behind_alias("roi-unknown-model", CHAMPION) is None


def test_plots_are_attached_to_the_run(logged):
    _, run_id = logged

    artifacts = [item.path for item in MlflowClient().list_artifacts(run_id, "plots")]

    assert artifacts == ["plots/reliability.png"]
