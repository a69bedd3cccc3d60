"""The validation gate: may a freshly trained model become `challenger`?

A candidate passes only when it has found most of the achievable signal (its metric, AUC by
default, reaches a given fraction of the oracle's, 97 % unless the model's own gate sets a
measured floor), its complexity pays off (it beats every baseline by a clear margin), and it is not
better than the oracle, which no honest model can be: a metric above the oracle's by more than
sampling noise means the model saw the future (leakage). Every model reuses it: engagement
against base rate and logistic regression, churn's stacked ensemble against its own members, and
so on. Models without an oracle (the oracle
value is None) are judged on the baselines alone, and the reasons say so; a gate without any
baseline never passes.

For a metric with a chance level (AUC: 0.5, what a coin scores), the fraction is of the oracle's
lift over chance, (model − 0.5) / (oracle − 0.5): a raw ratio flatters every model, since 90 % of
an oracle AUC of 0.77 is 0.69, only 71 % of the skill there is to find.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from roi_assets.evaluation.oracle_comparison import ORACLE, OracleComparison

DEFAULT_MIN_FRACTION_OF_ORACLE = 0.97
DEFAULT_MIN_MARGIN_OVER_BASELINES = 0.01
# How far above the oracle's metric a model may land by chance on a finite window before the gate
# calls it leakage (AUC on thousands of rows varies by about ±0.01).
DEFAULT_MAX_EXCESS_OVER_ORACLE = 0.01
# What a model without skill scores on each metric that has a chance level.
CHANCE_LEVEL = {"auc_roc": 0.5}


def skill_fraction(model_value: float, oracle_value: float, chance: float | None) -> float:
    """The model's share of the oracle's skill: of its lift over chance when the metric has a
    chance level, else of its raw value."""
    floor = 0.0 if chance is None else chance
    return (model_value - floor) / (oracle_value - floor)


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    reasons: tuple[str, ...]
    metric: str
    model_value: float
    oracle_value: float | None
    baseline_values: dict[str, float]

    @property
    def summary(self) -> str:
        verdict = "passed" if self.passed else "failed"
        return f"Validation gate {verdict}: " + "; ".join(self.reasons)


def validation_gate(
    model_value: float,
    oracle_value: float | None,
    baseline_values: Mapping[str, float],
    *,
    metric: str = "auc_roc",
    min_fraction_of_oracle: float = DEFAULT_MIN_FRACTION_OF_ORACLE,
    min_margin_over_baselines: float = DEFAULT_MIN_MARGIN_OVER_BASELINES,
    max_excess_over_oracle: float = DEFAULT_MAX_EXCESS_OVER_ORACLE,
) -> GateDecision:
    """Judge a higher-is-better metric of the model against the oracle's and the baselines'."""
    checks: list[tuple[bool, str]] = []
    if math.isnan(model_value):
        checks.append((False, f"the model's {metric} is undefined"))
    if oracle_value is None:
        checks.append((True, f"no oracle {metric} for this model, so only baselines are compared"))
    elif math.isnan(oracle_value) or oracle_value <= CHANCE_LEVEL.get(metric, 0.0):
        checks.append((False, f"the oracle's {metric} is undefined or no better than chance"))
    else:
        chance = CHANCE_LEVEL.get(metric)
        fraction = skill_fraction(model_value, oracle_value, chance)
        what = "raw value" if chance is None else f"lift over chance ({chance})"
        checks.append(
            (
                fraction >= min_fraction_of_oracle,
                f"{metric} {model_value:.4f} has {fraction:.1%} of the oracle's {what} at "
                f"{oracle_value:.4f} (needs ≥ {min_fraction_of_oracle:.0%})",
            )
        )
        checks.append(
            (
                model_value <= oracle_value + max_excess_over_oracle,
                f"{metric} is {model_value - oracle_value:+.4f} against the oracle's (above "
                f"+{max_excess_over_oracle:.2f} means leakage)",
            )
        )
    if not baseline_values:
        checks.append((False, "no baseline to compare with"))
    for name, value in baseline_values.items():
        margin = model_value - value
        checks.append(
            (
                margin > min_margin_over_baselines,
                f"{metric} is {margin:+.4f} over {name} ({value:.4f}; "
                f"needs > +{min_margin_over_baselines:.4f})",
            )
        )
    return GateDecision(
        passed=all(ok for ok, _ in checks),
        reasons=tuple(reason for _, reason in checks),
        metric=metric,
        model_value=model_value,
        oracle_value=oracle_value,
        baseline_values=dict(baseline_values),
    )


def gate_comparison(
    comparison: OracleComparison,
    *,
    metric: str = "auc_roc",
    min_fraction_of_oracle: float = DEFAULT_MIN_FRACTION_OF_ORACLE,
    min_margin_over_baselines: float = DEFAULT_MIN_MARGIN_OVER_BASELINES,
) -> GateDecision:
    """The gate applied to an oracle comparison, against every baseline in it."""
    return validation_gate(
        comparison.value(metric),
        comparison.value(metric, ORACLE),
        comparison.baseline_values(metric),
        metric=metric,
        min_fraction_of_oracle=min_fraction_of_oracle,
        min_margin_over_baselines=min_margin_over_baselines,
    )
