"""The send-time validation gate's verdict from the evaluation rows, for the gate check and for
the recommendations mart that acts on it.

The candidate DQN passes when its hours give held-out clients a higher expected open rate than a
random hour, their historically best hour and their most frequent engagement hour, each by more
than the 95 % noise margin of that gain (which clients were held out is the only chance left in
an exact evaluation). The oracle's rate is reported, not required.

When the DQN fails, the engagement-hour baseline may still be published in its place, if it beats
the population's best hour by more than its own noise margin: the product then sends at the best
decision it has measured, rather than at whatever an older model published or the legacy habits.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from roi_assets.evaluation.gate import GateDecision, validation_gate
from roi_assets.evaluation.model_evaluations import TABLE

GATED_METRIC = "expected_open_rate"
# Evaluation rows per baseline: the DQN's rate next to the baseline's (in baseline_value), and the
# 95 % noise margin of the DQN's gain over it.
BASELINE_ROWS = {
    "historical best hour": (GATED_METRIC, f"{GATED_METRIC}_noise_margin"),
    "uniform random hour": (f"{GATED_METRIC}_vs_random", f"{GATED_METRIC}_vs_random_noise_margin"),
    "engagement hour": (
        f"{GATED_METRIC}_vs_engagement_hour",
        f"{GATED_METRIC}_vs_engagement_hour_noise_margin",
    ),
}
# The engagement hour's rate next to the population's best hour's, and its margin.
FALLBACK_ROWS = ("engagement_hour_open_rate", "engagement_hour_vs_population_noise_margin")


@dataclass(frozen=True)
class GateVerdict:
    """The DQN's decision per baseline, and the fallback's against the population's best hour;
    None where the evaluation rows are missing."""

    decisions: dict[str, GateDecision] | None
    fallback: GateDecision | None

    @property
    def passed(self) -> bool:
        return self.decisions is not None and all(d.passed for d in self.decisions.values())

    @property
    def publishes_fallback(self) -> bool:
        return not self.passed and self.fallback is not None and self.fallback.passed


def gate_verdict(con: duckdb.DuckDBPyConnection, model_name: str, version: str) -> GateVerdict:
    """Judge `version` on its latest evaluation rows in monitoring.model_evaluations."""
    metrics = {metric for pair in (*BASELINE_ROWS.values(), FALLBACK_ROWS) for metric in pair}
    rows = {
        metric: con.execute(
            f"select value, oracle_value, baseline_value from {TABLE} "
            "where model_name = ? and model_version = ? and metric = ? "
            "order by evaluated_at desc limit 1",
            [model_name, str(version), metric],
        ).fetchone()
        for metric in metrics
    }

    def judged(rate: str, margin: str, baseline: str, metric: str) -> GateDecision | None:
        if rows[rate] is None or rows[margin] is None:
            return None
        return validation_gate(
            rows[rate][0],
            rows[rate][1],
            {baseline: rows[rate][2]},
            metric=metric,
            min_fraction_of_oracle=0.0,
            min_margin_over_baselines=rows[margin][0],
        )

    decisions = {
        baseline: judged(rate, margin, baseline, GATED_METRIC)
        for baseline, (rate, margin) in BASELINE_ROWS.items()
    }
    fallback = judged(*FALLBACK_ROWS, "population best hour", "engagement_hour_open_rate")
    complete = all(d is not None for d in decisions.values())
    return GateVerdict(decisions if complete else None, fallback)
