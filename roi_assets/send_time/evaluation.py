"""The send-time DQN judged on held-out clients against the true open and click probabilities.

Policies compared (DESIGN.md section 5), all on the same held-out clients and scored exactly from
the true probabilities (`policies.evaluate_policies`): the DQN's greedy hour, a uniformly random
hour, the client's historically best hour (from every client's logged sends), the client's most
frequent engagement hour (`engagement_hours`, the industry's baseline), the population's best hour
for everyone (which says how much of a gain is personal) and the oracle's best hour. Also: the
DQN's learning curve (true open rate of the hours each training checkpoint would have recommended)
with the iteration from which it settled, and the off-policy replay estimate of the DQN on the
held-out clients' logged sends, the figure a product without a simulator would see.

The truth arrives as data from the evaluation asset; this module reads no warehouse.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl

from roi_assets.evaluation.model_evaluations import evaluation_rows
from roi_assets.send_time.dqn import DQNAgent, settling_index
from roi_assets.send_time.environment import (
    HOURS_PER_WEEK,
    LoggedSendsReplay,
    OffPolicyEstimate,
    SendTimeEnvironment,
)
from roi_assets.send_time.held_out import HELD_OUT_FRACTION, is_held_out
from roi_assets.send_time.plots import evaluation_curve_png
from roi_assets.send_time.policies import (
    DQNGreedyPolicy,
    HistoricalBestHourPolicy,
    OracleBestHourPolicy,
    PopulationBestHourPolicy,
    RecommendedHoursPolicy,
    UniformRandomPolicy,
    evaluate_policies,
)
from roi_assets.send_time.training import state_matrix

DQN = "dqn"
RANDOM = "uniform_random_hour"
HISTORICAL_BEST = "historical_best_hour"
POPULATION_BEST = "population_best_hour"
ENGAGEMENT_HOUR = "engagement_hour"
ORACLE = "oracle_best_hour"
# SPEC.md "Timing Optimizer": +25 % engagement (opens), +30 % clicks and convergence in
# fewer than 1,000 iterations.
SPECIFICATION_TARGETS = {
    "open_uplift_vs_random_pct": 25.0,
    "click_uplift_vs_random_pct": 30.0,
    "iterations_to_convergence": 1000.0,
}
DEFAULT_CONVERGENCE_TOLERANCE = 0.05
Z_95 = 1.959964  # two-sided 95 % normal quantile
ENGAGEMENT_HOUR_VS_POPULATION = "engagement_hour_vs_population"


@dataclass(frozen=True)
class SendTimeEvaluation:
    """Everything the evaluation found; `metrics` shapes it for monitoring.model_evaluations."""

    policies: pd.DataFrame  # one row per policy, columns of `evaluate_policies`
    learning_curve: pl.DataFrame  # iteration, expected_open_rate
    iterations_to_convergence: int
    replay: OffPolicyEstimate
    logged_open_rate: float
    n_clients: int
    # Per baseline: half-width of the 95 % interval of the DQN's mean per-client gain in expected
    # open rate over that baseline (and, under ENGAGEMENT_HOUR_VS_POPULATION, of the engagement
    # hour's gain over the population's best hour). The rates are exact for each client, so what
    # remains uncertain is which clients happened to be held out.
    noise_margins: dict[str, float]

    def value(self, policy: str, column: str = "expected_open_rate") -> float:
        return float(self.policies.set_index("policy").loc[policy, column])

    def metrics(
        self,
        model_name: str,
        model_version: str,
        evaluation_window: str,
        evaluated_at: dt.datetime,
    ) -> pl.DataFrame:
        """Rows of monitoring.model_evaluations. `value` is the DQN; `baseline_value` is the
        historical best hour, or the random hour (population's best hour) for the metrics named
        `..._vs_random` (`..._vs_population`)."""
        rows = []
        references = (
            ("", HISTORICAL_BEST),
            ("_vs_random", RANDOM),
            ("_vs_population", POPULATION_BEST),
            ("_vs_engagement_hour", ENGAGEMENT_HOUR),
        )
        for rate in ("expected_open_rate", "expected_click_rate"):
            for suffix, baseline in references:
                rows.append(
                    (
                        f"{rate}{suffix}",
                        self.value(DQN, rate),
                        self.value(ORACLE, rate),
                        self.value(baseline, rate),
                    )
                )
        for uplift in ("open_uplift_vs_random_pct", "click_uplift_vs_random_pct"):
            rows.append(
                (
                    uplift,
                    self.value(DQN, uplift),
                    self.value(ORACLE, uplift),
                    self.value(HISTORICAL_BEST, uplift),
                )
            )
        oracle_open = self.value(ORACLE)
        rows += [
            (
                "open_rate_fraction_of_oracle",
                self.value(DQN) / oracle_open,
                1.0,
                self.value(HISTORICAL_BEST) / oracle_open,
            ),
            ("iterations_to_convergence", float(self.iterations_to_convergence), None, None),
            ("replay_open_rate", self.replay.replay_open_rate, None, self.logged_open_rate),
            ("replay_matched_sends", float(self.replay.n_matched), None, None),
            ("held_out_clients", float(self.n_clients), None, None),
            ("expected_open_rate_noise_margin", self.noise_margins[HISTORICAL_BEST], None, None),
            ("expected_open_rate_vs_random_noise_margin", self.noise_margins[RANDOM], None, None),
            (
                "expected_open_rate_vs_engagement_hour_noise_margin",
                self.noise_margins[ENGAGEMENT_HOUR],
                None,
                None,
            ),
            (
                "engagement_hour_open_rate",
                self.value(ENGAGEMENT_HOUR),
                self.value(ORACLE),
                self.value(POPULATION_BEST),
            ),
            (
                "engagement_hour_vs_population_noise_margin",
                self.noise_margins[ENGAGEMENT_HOUR_VS_POPULATION],
                None,
                None,
            ),
        ]
        return evaluation_rows(
            rows,
            model_name=model_name,
            model_version=model_version,
            evaluated_at=evaluated_at,
            evaluation_window=evaluation_window,
        )

    def markdown(self) -> str:
        """The policies side by side, the specification's targets and the convergence."""
        oracle_open = self.value(ORACLE)
        lines = [
            f"Held-out clients: {self.n_clients}. Expected rates from the true probabilities.",
            "",
            "| policy | open rate | click rate | open uplift vs random | click uplift vs random "
            "| share of oracle's open rate |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in self.policies.itertuples():
            lines.append(
                f"| {row.policy} | {row.expected_open_rate:.4f} | {row.expected_click_rate:.4f} "
                f"| {row.open_uplift_vs_random_pct:+.1f} % "
                f"| {row.click_uplift_vs_random_pct:+.1f} % "
                f"| {row.expected_open_rate / oracle_open:.1%} |"
            )
        targets = SPECIFICATION_TARGETS
        gain = {
            name: self.value(DQN) - self.value(name)
            for name in (HISTORICAL_BEST, RANDOM, ENGAGEMENT_HOUR)
        }
        lines += [
            "",
            f"Specification: opens +{targets['open_uplift_vs_random_pct']:.0f} % "
            f"(DQN {self.value(DQN, 'open_uplift_vs_random_pct'):+.1f} %), clicks "
            f"+{targets['click_uplift_vs_random_pct']:.0f} % "
            f"(DQN {self.value(DQN, 'click_uplift_vs_random_pct'):+.1f} %), convergence "
            f"< {targets['iterations_to_convergence']:.0f} iterations "
            f"(DQN settled at {self.iterations_to_convergence}).",
            "",
            f"Gain over the historical best hour {gain[HISTORICAL_BEST]:+.4f} "
            f"± {self.noise_margins[HISTORICAL_BEST]:.4f}, over the engagement hour "
            f"{gain[ENGAGEMENT_HOUR]:+.4f} ± {self.noise_margins[ENGAGEMENT_HOUR]:.4f}, over a "
            f"random hour {gain[RANDOM]:+.4f} ± {self.noise_margins[RANDOM]:.4f}; the engagement "
            f"hour over the population's best "
            f"{self.value(ENGAGEMENT_HOUR) - self.value(POPULATION_BEST):+.4f} "
            f"± {self.noise_margins[ENGAGEMENT_HOUR_VS_POPULATION]:.4f} "
            "(95 % intervals over the held-out clients).",
            "",
            f"Replay on the held-out clients' logged sends: the DQN's hour matched "
            f"{self.replay.n_matched} of {self.replay.n_logged} sends, whose open rate was "
            f"{_rate(self.replay.replay_open_rate)} against {self.logged_open_rate:.4f} for all "
            "logged sends.",
        ]
        return "\n".join(lines)

    def learning_curve_png(self) -> bytes:
        return evaluation_curve_png(
            self.learning_curve["iteration"].to_list(),
            self.learning_curve["expected_open_rate"].to_list(),
            {
                "oracle": self.value(ORACLE),
                "engagement hour": self.value(ENGAGEMENT_HOUR),
                "population best": self.value(POPULATION_BEST),
                "random": self.value(RANDOM),
            },
            converged_at=self.iterations_to_convergence,
            target_iterations=int(SPECIFICATION_TARGETS["iterations_to_convergence"]),
        )


def _rate(value: float) -> str:
    return "undefined" if math.isnan(value) else f"{value:.4f}"


def _probability_matrix(truth: pl.DataFrame, client_ids: list[str], column: str) -> np.ndarray:
    rows = (
        pl.DataFrame({"client_id": client_ids})
        .with_row_index("position")
        .join(truth, on="client_id", how="inner")
        .sort("position", "hour_of_week_local")
    )
    if rows.height != len(client_ids) * HOURS_PER_WEEK:
        raise ValueError("the true hour probabilities must cover all 168 hours of every client")
    return rows[column].to_numpy().reshape(len(client_ids), HOURS_PER_WEEK)


def evaluate_send_time(
    agent: DQNAgent,
    client_states: pl.DataFrame,
    logged_sends: pl.DataFrame,
    hour_probabilities: pl.DataFrame,
    checkpoints: pl.DataFrame,
    engagement_hours: pl.DataFrame,
    *,
    extra_hours: dict[str, pl.DataFrame] | None = None,
    held_out_fraction: float = HELD_OUT_FRACTION,
    convergence_tolerance: float = DEFAULT_CONVERGENCE_TOLERANCE,
) -> SendTimeEvaluation:
    """Judge `agent` on the held-out clients that have true hour probabilities.

    `client_states`: every client's current state; `logged_sends`: `states.logged_send_states`
    of every client; `hour_probabilities`: client_id, hour_of_week_local, p_open, p_click (truth);
    `checkpoints`: `training.SendTimeTraining.checkpoints` of the agent's training;
    `engagement_hours`: `engagement_hours.engagement_hour_table` of every client; `extra_hours`:
    more policies to put in the table, by name (client_id, hour; e.g. a ceiling study's).
    """
    with_truth = set(hour_probabilities["client_id"].unique().to_list())
    held_out = client_states.filter(is_held_out(client_states["client_id"], held_out_fraction))
    judged = held_out.filter(pl.col("client_id").is_in(with_truth)).sort("client_id")
    if judged.is_empty():
        raise ValueError("no held-out client has true hour probabilities")
    ids = judged["client_id"].to_list()
    environment = SendTimeEnvironment(
        state_matrix(judged),
        _probability_matrix(hour_probabilities, ids, "p_open"),
        _probability_matrix(hour_probabilities, ids, "p_click"),
        click_weight=0.0,
    )
    clients = np.arange(len(ids))
    historical_best = _historical_best(logged_sends, ids)
    engagement = RecommendedHoursPolicy(
        _hours_of(engagement_hours.rename({"engagement_hour_of_week": "hour"}), ids)
    )
    extra = {
        name: RecommendedHoursPolicy(_hours_of(frame, ids))
        for name, frame in (extra_hours or {}).items()
    }
    policies = evaluate_policies(
        environment,
        clients,
        {
            DQN: DQNGreedyPolicy(agent),
            RANDOM: UniformRandomPolicy(),
            HISTORICAL_BEST: historical_best,
            POPULATION_BEST: PopulationBestHourPolicy(historical_best.population_open_rate),
            ENGAGEMENT_HOUR: engagement,
            **extra,
            ORACLE: OracleBestHourPolicy(environment),
        },
    )
    curve = _learning_curve(environment, checkpoints, ids)
    settled = settling_index(curve["expected_open_rate"].to_numpy(), convergence_tolerance)
    held_out_sends = logged_sends.filter(pl.col("client_id").is_in(ids))
    replay = LoggedSendsReplay(
        state_matrix(held_out_sends),
        held_out_sends["hour_of_week"].to_numpy(),
        held_out_sends["opened"].to_numpy(),
        held_out_sends["clicked"].to_numpy(),
        propensities=held_out_sends["logging_propensity"].to_numpy(),
        click_weight=0.0,
    )
    return SendTimeEvaluation(
        policies=policies,
        learning_curve=curve,
        iterations_to_convergence=int(curve["iteration"][settled]),
        replay=replay.estimate(agent.best_hours(replay.states)),
        logged_open_rate=float(held_out_sends["opened"].mean()),
        n_clients=len(ids),
        noise_margins=_noise_margins(
            environment.open_probabilities(clients),
            agent.best_hours(environment.states),
            historical_best.best_hour[clients],
            engagement.hours,
            PopulationBestHourPolicy(historical_best.population_open_rate).best_hour,
        ),
    )


def _hours_of(frame: pl.DataFrame, ids: list[str]) -> np.ndarray:
    """The `hour` of each of `ids` in a (client_id, hour) frame."""
    hours = pl.DataFrame({"client_id": ids}).join(
        frame.select("client_id", "hour"), on="client_id", how="left", maintain_order="left"
    )["hour"]
    if hours.null_count():
        raise ValueError("an hour policy misses some held-out clients")
    return hours.to_numpy().astype(np.int64)


def _noise_margins(
    open_probability: np.ndarray,
    dqn_hours: np.ndarray,
    historical_hours: np.ndarray,
    engagement_hours: np.ndarray,
    population_hour: int,
) -> dict[str, float]:
    rows = np.arange(len(open_probability))
    dqn = open_probability[rows, dqn_hours]
    engagement = open_probability[rows, engagement_hours]
    gains = {
        HISTORICAL_BEST: dqn - open_probability[rows, historical_hours],
        RANDOM: dqn - open_probability.mean(axis=1),
        ENGAGEMENT_HOUR: dqn - engagement,
        ENGAGEMENT_HOUR_VS_POPULATION: engagement - open_probability[:, population_hour],
    }
    return {
        name: Z_95 * float(gain.std(ddof=1)) / math.sqrt(len(gain)) if len(gain) > 1 else math.inf
        for name, gain in gains.items()
    }


def _historical_best(logged_sends: pl.DataFrame, judged_ids: list[str]) -> HistoricalBestHourPolicy:
    """The baseline from every client's logs (the population curve needs them all), indexed so
    the judged clients come first in the environment's order."""
    others = sorted(set(logged_sends["client_id"].unique().to_list()) - set(judged_ids))
    index = {client_id: i for i, client_id in enumerate([*judged_ids, *others])}
    return HistoricalBestHourPolicy.from_logs(
        np.fromiter((index[c] for c in logged_sends["client_id"]), dtype=np.int64),
        logged_sends["hour_of_week"].to_numpy(),
        logged_sends["opened"].to_numpy(),
        n_clients=len(index),
    )


def _learning_curve(
    environment: SendTimeEnvironment, checkpoints: pl.DataFrame, ids: list[str]
) -> pl.DataFrame:
    order = pl.DataFrame({"client_id": ids}).with_row_index("position")
    rates = []
    iterations = sorted(checkpoints["iteration"].unique().to_list())
    for iteration in iterations:
        hours = (
            order.join(
                checkpoints.filter(pl.col("iteration") == iteration), on="client_id", how="left"
            )
            .sort("position")["best_hour_of_week"]
            .to_numpy()
        )
        if np.isnan(hours.astype(np.float64)).any():
            raise ValueError(f"checkpoint {iteration} misses some held-out clients")
        table = evaluate_policies(
            environment, np.arange(len(ids)), {"checkpoint": RecommendedHoursPolicy(hours)}
        )
        rates.append(float(table["expected_open_rate"].iloc[0]))
    return pl.DataFrame({"iteration": iterations, "expected_open_rate": rates})
