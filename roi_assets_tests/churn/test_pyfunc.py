import mlflow.pyfunc
import numpy as np

from roi_assets.churn.pyfunc import ARTIFACT_KEY, ChurnPyfuncModel, pyfunc_input_frame
from roi_assets.churn.tiers import risk_tier


def test_the_mlflow_model_scores_like_the_ensemble(ensemble, world, tmp_path):
    rows = np.arange(50)
    ensemble.save(tmp_path / "ensemble")
    mlflow.pyfunc.save_model(
        tmp_path / "pyfunc",
        python_model=ChurnPyfuncModel(),
        artifacts={ARTIFACT_KEY: str(tmp_path / "ensemble")},
        pip_requirements=["torch", "scikit-learn", "skops"],
    )

    scored = mlflow.pyfunc.load_model(str(tmp_path / "pyfunc")).predict(
        pyfunc_input_frame(world.churn.iloc[rows], world.sequences[rows])
    )

    expected = ensemble.predict_proba(world.churn.iloc[rows], world.sequences[rows])
    np.testing.assert_allclose(scored["probability"].to_numpy(), expected)
    assert list(scored["tier"]) == list(risk_tier(expected))
