import numpy as np

from roi_assets.engagement.baseline import train_logistic_baseline
from roi_assets.engagement.model import predict_proba
from roi_assets.evaluation.binary_metrics import binary_metrics


def test_the_baseline_ranks_better_than_chance_on_a_later_window(baseline, train_and_evaluation):
    later = train_and_evaluation[1]

    metrics = binary_metrics(
        later["opened_within_7d"].to_numpy(), predict_proba(baseline, later), baseline.threshold
    )

    assert metrics["auc_roc"] > 0.6


def test_the_baseline_follows_the_model_training_protocol(baseline, trained):
    assert baseline.fit_window == trained.fit_window
    assert baseline.validation_window == trained.validation_window
    assert baseline.threshold == baseline.validation_metrics["threshold"]
    assert 0 < baseline.threshold < 1


def test_the_baseline_is_deterministic(baseline, train_and_evaluation):
    again = train_logistic_baseline(train_and_evaluation[0])

    later = train_and_evaluation[1]
    np.testing.assert_array_equal(predict_proba(again, later), predict_proba(baseline, later))
