"""The content bandit's validation gate's rule (no Dagster inside).

The blocking check judges the candidate snapshot with it, and the assignments admit a candidate
only when it passes on the recorded evaluation. Trusting instead that a gate ran before them in the
same run would admit a snapshot no gate ever judged: one registered by a run killed before its
gate, still `candidate` when the assignments run without the gate (the mart materialised alone,
one step re-executed).
"""

from __future__ import annotations

import duckdb

from roi_assets.catalog import CONTENT_BANDIT_MODEL
from roi_assets.evaluation.gate import GateDecision, validation_gate
from roi_assets.evaluation.model_evaluations import TABLE
from roi_assets.personalization.report import ALL_FAMILIES

# What serves: the variant with the highest posterior mean per segment, scored on the true CTRs
# (the evaluation module reads them), not a fresh simulation of Thompson sampling.
GATED_METRIC = f"posterior_choice_ctr_{ALL_FAMILIES}"
# CTRs are a few percent, so the house margin of 0.01 would ask for +30 % or more; a tenth of a
# percentage point is a clear win at this scale (uniform random is the average of the variants'
# CTRs, so the margin is the lift of choosing over not choosing).
MIN_CTR_MARGIN = 0.001


def candidate_decision(con: duckdb.DuckDBPyConnection, version: str | None) -> GateDecision | None:
    """The gate's verdict on a snapshot from its latest evaluation; None when it has none."""
    if version is None:
        return None
    row = con.execute(
        f"select value, oracle_value, baseline_value from {TABLE} "
        "where model_name = ? and model_version = ? and metric = ? "
        "order by evaluated_at desc limit 1",
        [CONTENT_BANDIT_MODEL, str(version), GATED_METRIC],
    ).fetchone()
    if row is None:
        return None
    return validation_gate(
        row[0],
        row[1],
        {"uniform random": row[2]},
        metric=GATED_METRIC,
        min_fraction_of_oracle=0.0,
        min_margin_over_baselines=MIN_CTR_MARGIN,
    )
