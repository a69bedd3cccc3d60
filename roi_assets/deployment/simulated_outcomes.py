"""The embedded default's A/B outcomes for the engagement models, drawn from the simulator.

In production the platform logs per client whether the email it sent engaged the client. Here the
simulator knows each send's true open and click probability (read through
`evaluation.truth_tables`, the one module that may), so a day of the experiment is played on the
latest send of each client due for its weekly campaign: both versions score that send's features,
each arm emails its top-scored clients, and opens (clicks) are Bernoulli draws from the true
probabilities with a seed per day. A version that ranks clients better therefore wins, by as much
as it really is better, and the A/B test's statistics get honest noise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import duckdb
import mlflow.sklearn
import polars as pl

from roi_assets import settings
from roi_assets.deployment.outcomes import DEFAULT_TARGETING_SHARE, draw_targeted_outcomes
from roi_assets.deployment.rollout import RolloutState
from roi_assets.deployment.split import CHALLENGER_ARM, CHAMPION_ARM, experiment_salt
from roi_assets.engagement.model import predict_proba
from roi_assets.evaluation.truth_tables import latest_sends_with_probability

# The models whose A/B outcomes the simulator can play, and the true probability that decides
# whether a reached client engaged.
TRUE_PROBABILITY = {"roi-engagement-open": "p_open", "roi-engagement-click": "p_click"}


def latest_sends(con: duckdb.DuckDBPyConnection, true_probability: str) -> pl.DataFrame:
    """Every client's latest send: its feature row and its true engagement probability."""
    return latest_sends_with_probability(con, true_probability)


def simulated_engagement_outcomes(
    con: duckdb.DuckDBPyConnection,
    state: RolloutState,
    days: Iterable[dt.date],
    *,
    targeting_share: float = DEFAULT_TARGETING_SHARE,
    seed: int = 0,
) -> pl.DataFrame:
    """The outcomes of an engagement model's experiment on each of `days` (empty for none)."""
    days = sorted(days)
    if not days:
        return pl.DataFrame()
    population = latest_sends(con, TRUE_PROBABILITY[state.model_name])
    versions = {CHAMPION_ARM: state.champion_version, CHALLENGER_ARM: state.challenger_version}
    scores = {
        arm: predict_proba(_load_version(state.model_name, version), population)
        for arm, version in versions.items()
    }
    key = experiment_salt(state.model_name, state.challenger_version)
    return pl.concat(
        draw_targeted_outcomes(
            population,
            scores,
            versions,
            state.challenger_share,
            key,
            day,
            targeting_share=targeting_share,
            seed=seed,
        )
        for day in days
    )


def _load_version(model_name: str, version: str) -> Any:
    # Same store as the registry helpers in resources.tracking: the product's unless a resource or
    # MLFLOW_TRACKING_URI chose another, never MLflow's own default in the working directory.
    if not mlflow.is_tracking_uri_set():
        mlflow.set_tracking_uri(settings.mlflow_tracking_uri())
    return mlflow.sklearn.load_model(f"models:/{model_name}/{version}")
