"""Quality of a multiclass classifier's decisions (the document classifier's yardstick).

Per-class F1 is NaN for a class that is neither present nor predicted; the macro average leaves
such classes out rather than counting them as 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import ArrayLike
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score


@dataclass(frozen=True)
class MulticlassReport:
    labels: tuple[str, ...]
    accuracy: float
    macro_f1: float
    per_class_f1: dict[str, float]
    confusion: pl.DataFrame  # one row per true label, one column per predicted label

    def as_metrics(self) -> dict[str, float]:
        """Flat metric names, as stored in `monitoring.model_evaluations`."""
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            **{f"f1_{label}": value for label, value in self.per_class_f1.items()},
        }


def multiclass_metrics(
    y_true: ArrayLike, y_pred: ArrayLike, labels: Sequence[str]
) -> MulticlassReport:
    """Accuracy, macro F1, per-class F1 and the confusion matrix over the given class labels."""
    truth = np.asarray(y_true).astype(str)
    predicted = np.asarray(y_pred).astype(str)
    if truth.ndim != 1 or truth.shape != predicted.shape or len(truth) == 0:
        raise ValueError("y_true and y_pred must be non-empty 1-d arrays of the same length")
    label_list = [str(label) for label in labels]
    unknown = sorted((set(truth) | set(predicted)) - set(label_list))
    if unknown:
        raise ValueError(f"labels outside the given classes: {unknown}")
    per_class = f1_score(truth, predicted, labels=label_list, average=None, zero_division=np.nan)
    matrix = confusion_matrix(truth, predicted, labels=label_list)
    return MulticlassReport(
        labels=tuple(label_list),
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(
            f1_score(truth, predicted, labels=label_list, average="macro", zero_division=np.nan)
        ),
        per_class_f1=dict(zip(label_list, per_class.astype(float).tolist(), strict=True)),
        confusion=pl.DataFrame(
            {"true_label": label_list} | {label: matrix[:, i] for i, label in enumerate(label_list)}
        ),
    )
