"""The customer's targets next to what the model and the oracle reach on the same rows.

A target the oracle (the world's true probabilities) misses on these rows is out of reach for any
model of this data: the report says so, instead of leaving a model to look like it failed where
the data cannot succeed. The oracle's threshold metrics (precision, recall, F1) are taken at its
own F1-best threshold on the evaluated rows, the most favourable reading.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from roi_assets.evaluation.oracle_comparison import ORACLE

Value = Callable[..., float]  # value(metric) for the model, value(metric, scorer) for another


def _reached(value: float, target: float, upper_bound: bool) -> str:
    if math.isnan(value):
        return "–"
    return "yes" if (value < target if upper_bound else value >= target) else "no"


def targets_markdown(
    value: Value,
    targets: Mapping[str, float],
    upper_bounds: frozenset[str] = frozenset(),
    oracle: str = ORACLE,
) -> str:
    """One row per target: the target, the model's value, the oracle's on the same rows, and
    whether each reaches it. `value` is a comparison's `value` method."""
    lines = [
        "| target | required | model | oracle, same rows | model reaches | oracle reaches |",
        "| --- | ---: | ---: | ---: | :---: | :---: |",
    ]
    for metric, target in targets.items():
        upper = metric in upper_bounds
        model, best = value(metric), value(metric, oracle)
        lines.append(
            f"| {metric} | {'<' if upper else '≥'} {target:.2f} | {model:.3f} | {best:.3f} | "
            f"{_reached(model, target, upper)} | {_reached(best, target, upper)} |"
        )
    return "\n".join(lines)
