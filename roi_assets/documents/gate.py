"""The document classifier's gate verdict on a registered version, from its recorded evaluation.

The blocking check reports it and the promotion admits a candidate only when it passes: trusting
instead that the check ran before the promotion in the same run would admit a version no gate
judged (one registered by a run killed before its gate, still `candidate` when the promotion is
materialised alone or re-executed).
"""

from __future__ import annotations

import duckdb

from roi_assets.documents.classifier_evaluation import document_gate
from roi_assets.evaluation.gate import GateDecision
from roi_assets.evaluation.model_evaluations import TABLE


def recorded_verdict(
    con: duckdb.DuckDBPyConnection, model_name: str, version: str | None
) -> GateDecision | None:
    """The gate's decision on `version`'s latest evaluation; None when it has none."""
    if version is None:
        return None
    rows = con.execute(
        f"select metric, value from {TABLE} where model_name = ? and model_version = ? "
        "qualify evaluated_at = max(evaluated_at) over ()",
        [model_name, str(version)],
    ).fetchall()
    return document_gate(dict(rows)) if rows else None
