"""For a churn client someone is asked to act on: the smallest realistic change in what the client
and the account team can act on that brings the risk below a target, told in plain words. The
target is the high tier for a high-risk client, and for a client on the watch list below the high
tier, the risk of the riskiest client left off the list (below it, the client would leave the list).

Why a search written here rather than a library: DiCE (dice-ml), the maintained counterfactual
library, is not a dependency and would bring its own pinned pandas/scikit-learn stack; the problem
is also small (a dozen actionable features, one model call per batch of candidates), so a
documented greedy search is enough and stays transparent to an account manager.

The search:
- only ACTIONABLE features move (engagement, support resolution, adoption); context such as the
  contract date, market signals, competitor activity or anything demographic never does;
- each feature moves only over realistic values: the 5th-95th percentiles of the training rows,
  in 5-point steps (`value_grid`), and only in the direction that is an improvement an account
  team can work towards (more logins, less decline, better support sentiment, more adoption).
  Without that, the forest's bumps at low risk made the search propose advice such as "lower
  support ticket sentiment" for a point of risk;
- cost is the number of percentile steps moved, summed over features; each round takes the one
  step that lowers the risk most, until the risk is below the target or no step helps;
- a final pass undoes every change that is not needed to stay below the target.
The risk is the served stack's: the client's 30-day daily record stays as it is, so the answer
reads "with the same recent history, these tabular signals would need to look like this".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from roi_assets.churn.ensemble import ChurnEnsemble
from roi_assets.churn.features import CHURN_FEATURES, tabular_matrix
from roi_assets.churn.tiers import HIGH_RISK
from roi_assets.resources.table_contracts import create_statement
from roi_assets.resources.warehouse import upsert_rows

GRID_QUANTILES = np.linspace(0.05, 0.95, 19)
MAX_STEPS = 40


@dataclass(frozen=True)
class ActionableFeature:
    words: str  # what the account manager reads
    better_lower: bool = False  # the improvement lowers the value (a decline, a gap)


ACTIONABLE: dict[str, ActionableFeature] = {
    "login_frequency_slope_30d": ActionableFeature("the 30-day login trend (logins per day)"),
    "document_access_decline_rate": ActionableFeature(
        "the document access decline rate", better_lower=True
    ),
    "email_engagement_momentum": ActionableFeature("email engagement momentum"),
    "feature_usage_diversity_change": ActionableFeature("the change in features used"),
    "time_between_sessions_increase": ActionableFeature(
        "the rise in days between sessions", better_lower=True
    ),
    "support_ticket_sentiment_score": ActionableFeature("support ticket sentiment"),
    "unique_features_used": ActionableFeature("features used"),
    "data_volume_uploaded_gb": ActionableFeature("data uploaded (GB)"),
    "team_members_invited": ActionableFeature("team members invited"),
    "integration_count": ActionableFeature("integrations connected"),
    "customization_level": ActionableFeature("the customisation level"),
}


@dataclass(frozen=True)
class Change:
    feature: str
    before: float
    after: float

    def in_words(self, whole_numbers: bool) -> str:
        verb = "raise" if self.after > self.before else "lower"
        # Three significant digits: a step of a small value (0.0107 → 0.0143 GB) stays visible.
        shown = "{:.0f}" if whole_numbers else "{:.3g}"
        return (
            f"{verb} {ACTIONABLE[self.feature].words} from "
            f"{shown.format(self.before)} to {shown.format(self.after)}"
        )


@dataclass(frozen=True)
class Target:
    """The risk a counterfactual must get below, and how an account manager reads it."""

    probability: float
    name: str

    def in_words(self) -> str:
        return f"{self.name} ({self.probability:.0%})"


HIGH_TIER = Target(HIGH_RISK, "the high tier")


def off_the_watch_list(riskiest_unlisted: float) -> Target:
    """Below the risk of the riskiest client the watch list leaves out, a client ranks off it."""
    return Target(riskiest_unlisted, "the watch list's cut-off")


@dataclass(frozen=True)
class Counterfactual:
    """The changes found for one client and the risk before and after them."""

    risk_before: float
    risk_after: float
    changes: tuple[Change, ...]
    target: Target
    whole_numbers: frozenset[str]

    @property
    def reached(self) -> bool:
        return self.risk_after < self.target.probability

    def in_words(self) -> str:
        if not self.changes:
            return f"no actionable change lowers the churn risk from {self.risk_before:.0%}"
        steps = "; ".join(
            change.in_words(change.feature in self.whole_numbers) for change in self.changes
        )
        outcome = (
            f"below {self.target.in_words()}"
            if self.reached
            else f"still at or above {self.target.in_words()}"
        )
        return (
            f"{steps[0].upper()}{steps[1:]}: churn risk {self.risk_before:.0%} → "
            f"{self.risk_after:.0%}, {outcome}"
        )


def value_grid(training: object) -> dict[str, np.ndarray]:
    """Per actionable feature, the realistic values it may take: the distinct 5th-95th
    percentiles (in 5-point steps) of the training rows (a frame with the churn features)."""
    matrix = tabular_matrix(training)
    return {
        name: np.unique(np.quantile(matrix[:, CHURN_FEATURES.index(name)], GRID_QUANTILES))
        for name in ACTIONABLE
    }


def _next_better(value: float, grid: np.ndarray, better_lower: bool) -> list[float]:
    """The nearest grid value in the direction of improvement, if the grid goes on that far."""
    if better_lower:
        below = grid[grid < value - 1e-12]
        return [float(below[-1])] if len(below) else []
    above = grid[grid > value + 1e-12]
    return [float(above[0])] if len(above) else []


def find_counterfactual(
    predict_risk: Callable[[np.ndarray], np.ndarray],
    row: np.ndarray,
    grids: Mapping[str, np.ndarray],
    *,
    target: Target = HIGH_TIER,
    max_steps: int = MAX_STEPS,
) -> Counterfactual:
    """The greedy search of the module docstring for one client.

    `predict_risk` maps an (n, 20) matrix of churn features to n probabilities (the client's daily
    record held fixed), `row` is the client's 20 features in CHURN_FEATURES order and `grids`
    comes from `value_grid`.
    """
    original = np.asarray(row, dtype=np.float64)
    current = original.copy()
    risk_before = risk = float(predict_risk(current[None, :])[0])
    for _ in range(max_steps):
        if risk < target.probability:
            break
        candidates = []
        for name, grid in grids.items():
            column = CHURN_FEATURES.index(name)
            for value in _next_better(current[column], grid, ACTIONABLE[name].better_lower):
                candidate = current.copy()
                candidate[column] = value
                candidates.append(candidate)
        if not candidates:
            break
        risks = predict_risk(np.vstack(candidates))
        best = int(np.argmin(risks))
        if risks[best] >= risk:
            break
        current, risk = candidates[best], float(risks[best])
    if risk < target.probability:
        current, risk = _without_needless_changes(
            predict_risk, original, current, risk, target.probability
        )
    changes = tuple(
        Change(name, float(original[j]), float(current[j]))
        for j, name in enumerate(CHURN_FEATURES)
        if current[j] != original[j]
    )
    whole = frozenset(name for name, grid in grids.items() if np.all(grid == np.round(grid)))
    return Counterfactual(risk_before, risk, changes, target, whole)


def counterfactual_targets(window_risk: pl.DataFrame, max_clients: int) -> dict[str, Target]:
    """Who gets a counterfactual in one window of marts.churn_risk, and its target: clients at the
    high tier or above (below the high tier), then listed clients below it (off the watch list),
    the riskiest `max_clients` in all, riskiest first."""
    ranked = window_risk.sort("probability", descending=True)
    unlisted = ranked.filter(~pl.col("on_watch_list"))["probability"]
    watch_list = off_the_watch_list(float(unlisted.max())) if unlisted.len() else None
    targets: dict[str, Target] = {}
    for row in ranked.head(max_clients).iter_rows(named=True):
        if row["probability"] >= HIGH_RISK:
            targets[row["client_id"]] = HIGH_TIER
        elif row["on_watch_list"] and watch_list is not None:
            targets[row["client_id"]] = watch_list
    return targets


def stack_counterfactuals(
    ensemble: ChurnEnsemble,
    rows: object,
    sequences: np.ndarray,
    grids: Mapping[str, np.ndarray],
    *,
    targets: Sequence[Target] | None = None,
) -> list[Counterfactual]:
    """`find_counterfactual` for each row of `rows` (churn features) against the ensemble's
    stacked risk, each client's daily sequence (from `build_sequences`) held fixed; `targets` has
    one per row (the high tier for every row when omitted)."""
    features = tabular_matrix(rows)
    targets = [HIGH_TIER] * len(features) if targets is None else list(targets)
    found = []
    for row, sequence, target in zip(features, sequences, targets, strict=True):
        repeated = sequence[None]

        def risk(matrix: np.ndarray, repeated: np.ndarray = repeated) -> np.ndarray:
            return ensemble.predict_proba(matrix, np.repeat(repeated, len(matrix), axis=0))

        found.append(find_counterfactual(risk, row, grids, target=target))
    return found


def _without_needless_changes(
    predict_risk: Callable[[np.ndarray], np.ndarray],
    original: np.ndarray,
    current: np.ndarray,
    risk: float,
    target: float,
) -> tuple[np.ndarray, float]:
    """Undo, one feature at a time, each change whose removal keeps the risk below the target."""
    for column in np.flatnonzero(current != original):
        trial = current.copy()
        trial[column] = original[column]
        trial_risk = float(predict_risk(trial[None, :])[0])
        if trial_risk < target:
            current, risk = trial, trial_risk
    return current, risk


TABLE = "monitoring.churn_counterfactuals"
_CREATE_TABLE = create_statement(TABLE)


def counterfactual_row(found: Counterfactual) -> dict:
    """The table's result columns for one client (the caller adds who and when)."""
    return {
        "risk_before": found.risk_before,
        "risk_after": found.risk_after,
        "target_name": found.target.name,
        "target_probability": found.target.probability,
        "reached_target": found.reached,
        "changed_features": [change.feature for change in found.changes],
        "explanation": found.in_words(),
    }


def write_counterfactuals(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame) -> int:
    """Upsert counterfactual rows, keyed by (model_name, model_version, client_id,
    snapshot_date)."""
    upsert_rows(con, TABLE, _CREATE_TABLE, rows)
    return rows.height
