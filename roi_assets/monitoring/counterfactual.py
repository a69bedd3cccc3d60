"""For a high-risk churn client: the smallest realistic change in what the client and the account
team can act on that brings the risk below the high tier, told in plain words.

Why a search written here rather than a library: DiCE (dice-ml), the maintained counterfactual
library, is not a dependency and would bring its own pinned pandas/scikit-learn stack; the problem
is also small (a dozen actionable features, one model call per batch of candidates), so a
documented greedy search is enough and stays transparent to an account manager.

The search:
- only ACTIONABLE features move (engagement, support resolution, adoption); context such as the
  contract date, market signals, competitor activity or anything demographic never does;
- each feature moves only over realistic values: the 5th-95th percentiles of the training rows,
  in 5-point steps (`value_grid`), and cumulative counts (features ever used, integrations, team
  members, data uploaded) only go up;
- cost is the number of percentile steps moved, summed over features; each round takes the one
  step that lowers the risk most, until the risk is below the high tier or no step helps;
- a final pass undoes every change that is not needed to stay below the tier.
The risk is the served stack's: the client's 30-day daily record stays as it is, so the answer
reads "with the same recent history, these tabular signals would need to look like this".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from roi_assets.churn.ensemble import ChurnEnsemble
from roi_assets.churn.features import CHURN_FEATURES, tabular_matrix
from roi_assets.churn.tiers import HIGH_RISK

GRID_QUANTILES = np.linspace(0.05, 0.95, 19)
MAX_STEPS = 40


@dataclass(frozen=True)
class ActionableFeature:
    words: str  # what the account manager reads
    only_up: bool = False  # cumulative counts cannot be lowered


ACTIONABLE: dict[str, ActionableFeature] = {
    "login_frequency_slope_30d": ActionableFeature("the 30-day login trend (logins per day)"),
    "document_access_decline_rate": ActionableFeature("the document access decline rate"),
    "email_engagement_momentum": ActionableFeature("email engagement momentum"),
    "feature_usage_diversity_change": ActionableFeature("the change in features used"),
    "time_between_sessions_increase": ActionableFeature("the rise in days between sessions"),
    "support_ticket_sentiment_score": ActionableFeature("support ticket sentiment"),
    "unique_features_used": ActionableFeature("features used", only_up=True),
    "data_volume_uploaded_gb": ActionableFeature("data uploaded (GB)", only_up=True),
    "team_members_invited": ActionableFeature("team members invited", only_up=True),
    "integration_count": ActionableFeature("integrations connected", only_up=True),
    "customization_level": ActionableFeature("the customisation level"),
}


@dataclass(frozen=True)
class Change:
    feature: str
    before: float
    after: float

    def in_words(self, whole_numbers: bool) -> str:
        verb = "raise" if self.after > self.before else "lower"
        shown = "{:.0f}" if whole_numbers else "{:.2f}"
        return (
            f"{verb} {ACTIONABLE[self.feature].words} from "
            f"{shown.format(self.before)} to {shown.format(self.after)}"
        )


@dataclass(frozen=True)
class Counterfactual:
    """The changes found for one client and the risk before and after them."""

    risk_before: float
    risk_after: float
    changes: tuple[Change, ...]
    target: float
    whole_numbers: frozenset[str]

    @property
    def reached(self) -> bool:
        return self.risk_after < self.target

    def in_words(self) -> str:
        if not self.changes:
            return f"no actionable change lowers the churn risk from {self.risk_before:.0%}"
        steps = "; ".join(
            change.in_words(change.feature in self.whole_numbers) for change in self.changes
        )
        outcome = (
            f"below the high tier ({self.target:.0%})"
            if self.reached
            else f"still at or above the high tier ({self.target:.0%})"
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


def _neighbours(value: float, grid: np.ndarray, only_up: bool) -> list[float]:
    """The nearest grid values above (and, unless only_up, below) the current value."""
    found = []
    above = grid[grid > value + 1e-12]
    if len(above):
        found.append(float(above[0]))
    below = grid[grid < value - 1e-12]
    if len(below) and not only_up:
        found.append(float(below[-1]))
    return found


def find_counterfactual(
    predict_risk: Callable[[np.ndarray], np.ndarray],
    row: np.ndarray,
    grids: Mapping[str, np.ndarray],
    *,
    target: float = HIGH_RISK,
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
        if risk < target:
            break
        candidates = []
        for name, grid in grids.items():
            column = CHURN_FEATURES.index(name)
            for value in _neighbours(current[column], grid, ACTIONABLE[name].only_up):
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
    if risk < target:
        current, risk = _without_needless_changes(predict_risk, original, current, risk, target)
    changes = tuple(
        Change(name, float(original[j]), float(current[j]))
        for j, name in enumerate(CHURN_FEATURES)
        if current[j] != original[j]
    )
    whole = frozenset(name for name, grid in grids.items() if np.all(grid == np.round(grid)))
    return Counterfactual(risk_before, risk, changes, target, whole)


def stack_counterfactuals(
    ensemble: ChurnEnsemble,
    rows: object,
    sequences: np.ndarray,
    grids: Mapping[str, np.ndarray],
    *,
    target: float = HIGH_RISK,
) -> list[Counterfactual]:
    """`find_counterfactual` for each row of `rows` (churn features) against the ensemble's
    stacked risk, each client's daily sequence (from `build_sequences`) held fixed."""
    features = tabular_matrix(rows)
    found = []
    for row, sequence in zip(features, sequences, strict=True):
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
_CREATE_TABLE = f"""
create table if not exists {TABLE} (
    model_name varchar not null,
    model_version varchar not null,
    client_id varchar not null,
    snapshot_date date not null,
    risk_before double not null,
    risk_after double not null,
    reached_below_high boolean not null,
    changed_features varchar[] not null,
    explanation varchar not null,
    computed_at timestamp not null,
    primary key (model_name, model_version, client_id, snapshot_date)
)
"""


def counterfactual_row(found: Counterfactual) -> dict:
    """The table's result columns for one client (the caller adds who and when)."""
    return {
        "risk_before": found.risk_before,
        "risk_after": found.risk_after,
        "reached_below_high": found.reached,
        "changed_features": [change.feature for change in found.changes],
        "explanation": found.in_words(),
    }


def write_counterfactuals(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame) -> int:
    """Upsert counterfactual rows, keyed by (model_name, model_version, client_id,
    snapshot_date)."""
    con.execute("create schema if not exists monitoring")
    con.execute(_CREATE_TABLE)
    con.register("incoming_counterfactuals", rows.to_arrow())
    try:
        con.execute(
            f"insert or replace into {TABLE} by name select * from incoming_counterfactuals"
        )
    finally:
        con.unregister("incoming_counterfactuals")
    return rows.height
