"""Churn-risk metrics of the specification, on plain numpy arrays.

An alert is a client scored at the high tier or above (probability ≥ 0.6). Definitions:
- auc_roc: area under the ROC curve of the probabilities (threshold-free ranking quality);
- precision_at_high: share of alerted clients who churned, TP / (TP + FP);
- alert_accuracy: share of all scored clients whose alert decision matched their outcome, i.e.
  alerted and churned or not alerted and stayed, (TP + TN) / n. The reading "share of alerts that
  were right" would repeat precision_at_high, so this one judges the alerting decision as a whole;
  with a few percent churning it is dominated by the quiet majority, which is why precision and
  false-positive rate stand next to it;
- false_positive_rate: share of clients who stayed but were alerted, FP / (FP + TN).
Undefined values (a single class, no alerts) are NaN rather than a misleading 0.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import confusion_matrix, roc_auc_score

ALERT_THRESHOLD = 0.6

# The specification's targets; false_positive_rate is an upper bound, the others lower bounds.
TARGETS: dict[str, float] = {
    "auc_roc": 0.88,
    "precision_at_high": 0.75,
    "alert_accuracy": 0.80,
    "false_positive_rate": 0.15,
}
UPPER_BOUND_TARGETS = frozenset({"false_positive_rate"})


def _ratio(numerator: int, denominator: int) -> float:
    return float(numerator / denominator) if denominator else math.nan


def churn_risk_metrics(
    churned: ArrayLike, probability: ArrayLike, alert_threshold: float = ALERT_THRESHOLD
) -> dict[str, float]:
    """AUC-ROC, precision at the high tier, alert accuracy and false-positive rate, plus counts."""
    y_true = np.asarray(churned).astype(np.int64)
    scores = np.asarray(probability, dtype=np.float64)
    if y_true.shape != scores.shape or y_true.ndim != 1:
        raise ValueError("churned and probability must be 1-d arrays of the same length")
    if not np.isin(y_true, (0, 1)).all():
        raise ValueError("churned must hold 0/1 outcomes")
    alerts = scores >= alert_threshold
    tn, fp, _fn, tp = confusion_matrix(y_true, alerts, labels=[0, 1]).ravel()
    both_classes = 0 < y_true.sum() < len(y_true)
    return {
        "auc_roc": float(roc_auc_score(y_true, scores)) if both_classes else math.nan,
        "precision_at_high": _ratio(tp, tp + fp),
        "alert_accuracy": _ratio(tp + tn, len(y_true)),
        "false_positive_rate": _ratio(fp, fp + tn),
        "alerts": int(tp + fp),
        "clients": len(y_true),
        "churn_rate": float(y_true.mean()) if len(y_true) else math.nan,
    }


def meets_targets(metrics: dict[str, float]) -> dict[str, bool]:
    """Per target metric, whether it reaches the specification's target (NaN never does)."""
    return {
        name: (metrics[name] < target if name in UPPER_BOUND_TARGETS else metrics[name] >= target)
        for name, target in TARGETS.items()
    }
