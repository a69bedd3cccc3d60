"""The classifier is judged on at least 50 held-out documents per type, every figure with its
95 % interval, and the intervals reach monitoring.model_evaluations without fooling the gate."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from roi_assets.documents.assets import HELD_OUT_FRACTION, SPLIT_SEED
from roi_assets.documents.classifier import DOCUMENT_TYPES
from roi_assets.documents.classifier_evaluation import (
    CI_HIGH,
    CI_LOW,
    MAJORITY_CLASS,
    SUPPORT_PREFIX,
    ClassifierEvaluation,
    bootstrap_intervals,
    document_gate,
)
from roi_assets.documents.labelled_corpus import held_out_split
from roi_assets.evaluation.multiclass_metrics import multiclass_metrics
from roi_assets.simulator.documents.world import document_plan
from roi_assets.simulator.scales import SCALES


def _predictions(per_type: int, error_rate: float, seed: int = 0) -> tuple[list, list]:
    rng = np.random.default_rng(seed)
    truth = [t for t in DOCUMENT_TYPES for _ in range(per_type)]
    predicted = [
        str(rng.choice([o for o in DOCUMENT_TYPES if o != t])) if rng.random() < error_rate else t
        for t in truth
    ]
    return truth, predicted


def test_the_default_archive_holds_out_at_least_50_documents_of_every_type():
    plan = document_plan(SCALES["default"], 7)
    corpus = pl.DataFrame(
        {
            "content_sha256": [f"{i:064x}" for i in range(plan.n_labelled)],
            "doc_type": [DOCUMENT_TYPES[i % len(DOCUMENT_TYPES)] for i in range(plan.n_labelled)],
        }
    )
    training, held_out = held_out_split(corpus, HELD_OUT_FRACTION, SPLIT_SEED)
    per_type = held_out["doc_type"].value_counts()["count"]
    assert per_type.len() == len(DOCUMENT_TYPES) and per_type.min() >= 50
    assert set(training["content_sha256"]).isdisjoint(held_out["content_sha256"])


def test_intervals_hold_the_point_estimate_and_narrow_as_the_held_out_set_grows():
    widths = []
    for per_type in (6, 52):
        truth, predicted = _predictions(per_type, error_rate=0.1)
        report = multiclass_metrics(truth, predicted, DOCUMENT_TYPES)
        intervals = bootstrap_intervals(truth, predicted, DOCUMENT_TYPES, seed=1)
        assert set(intervals) == {"accuracy", "macro_f1", *(f"f1_{t}" for t in DOCUMENT_TYPES)}
        low, high = intervals["accuracy"]
        assert low <= report.accuracy <= high
        for label, value in report.per_class_f1.items():
            low, high = intervals[f"f1_{label}"]
            assert low <= value <= high
        widths.append(np.mean([h - lo for lo, h in intervals.values()]))
    assert widths[1] < 0.5 * widths[0]


def test_a_flawless_classifier_has_an_interval_of_one_point():
    truth, _ = _predictions(5, 0.0)
    assert bootstrap_intervals(truth, truth, DOCUMENT_TYPES)["accuracy"] == (1.0, 1.0)


def test_interval_and_support_rows_are_stored_but_do_not_count_as_types_for_the_gate():
    truth, predicted = _predictions(52, error_rate=0.0)
    evaluation = ClassifierEvaluation(
        model=multiclass_metrics(truth, predicted, DOCUMENT_TYPES),
        baselines={
            MAJORITY_CLASS: multiclass_metrics(truth, ["other"] * len(truth), DOCUMENT_TYPES),
            "tfidf_alone": multiclass_metrics(truth, predicted, DOCUMENT_TYPES),
            "image_alone": multiclass_metrics(truth, predicted, DOCUMENT_TYPES),
        },
        intervals={"f1_other": (0.1, 0.2)},  # an interval below 0.85 is not a failing type
        support={t: 52 for t in DOCUMENT_TYPES},
    )
    metrics = evaluation.metrics()
    assert metrics[f"{CI_LOW}f1_other"] == 0.1 and metrics[f"{CI_HIGH}f1_other"] == 0.2
    assert metrics[f"{SUPPORT_PREFIX}hoa_docs"] == 52.0
    assert document_gate(metrics).passed
    assert "0.100, 0.200" in evaluation.markdown("roi-document-classifier", "1")


@pytest.mark.parametrize("seed", [3, 4])
def test_bootstrap_intervals_are_reproducible_for_a_seed(seed):
    truth, predicted = _predictions(10, 0.2)
    first = bootstrap_intervals(truth, predicted, DOCUMENT_TYPES, seed=seed)
    assert first == bootstrap_intervals(truth, predicted, DOCUMENT_TYPES, seed=seed)
