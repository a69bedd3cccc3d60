import math

import pytest

from roi_assets.evaluation.multiclass_metrics import multiclass_metrics

LABELS = ("purchase_agreement", "title_docs", "other")


def test_metrics_match_a_hand_computed_example():
    truth = ["purchase_agreement", "purchase_agreement", "title_docs", "title_docs"]
    predicted = ["purchase_agreement", "title_docs", "title_docs", "title_docs"]

    report = multiclass_metrics(truth, predicted, LABELS)

    assert report.accuracy == pytest.approx(0.75)
    # purchase_agreement: P 1, R 1/2 → 2/3; title_docs: P 2/3, R 1 → 4/5; other: undefined.
    assert report.per_class_f1["purchase_agreement"] == pytest.approx(2 / 3)
    assert report.per_class_f1["title_docs"] == pytest.approx(4 / 5)
    assert math.isnan(report.per_class_f1["other"])
    assert report.macro_f1 == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert report.confusion.rows() == [
        ("purchase_agreement", 1, 1, 0),
        ("title_docs", 0, 2, 0),
        ("other", 0, 0, 0),
    ]
    assert report.as_metrics()["f1_title_docs"] == pytest.approx(4 / 5)


def test_labels_outside_the_classes_are_refused():
    with pytest.raises(ValueError, match="hoa_docs"):
        multiclass_metrics(["hoa_docs"], ["other"], LABELS)
