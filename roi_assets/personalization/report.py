"""The content bandit's evaluation as one report: simulation, stored posteriors and replay.

Three views, each next to the oracle and the baselines:
- simulation (`evaluation.simulate_policies`): Thompson sampling vs uniform random vs ε-greedy
  on the true click-through rates, with cumulative regret against the oracle's best variant per
  segment;
- the stored posteriors: the true CTR of the variant each segment's posterior mean ranks first,
  the choice the product would make if it stopped exploring;
- replay (`evaluation.replay_estimate`) of Thompson sampling on the logged sends, whose variants
  were assigned uniformly at random: what a product without a simulator can measure.

The true CTRs arrive as data from the evaluation asset; this module reads no warehouse.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from roi_assets.evaluation.model_evaluations import evaluation_rows
from roi_assets.personalization.bandit import ContentPersonalizer, ThompsonSampler
from roi_assets.personalization.evaluation import (
    EPSILON_GREEDY,
    ORACLE,
    THOMPSON,
    UNIFORM_RANDOM,
    BanditSimulation,
    ctr_matrix,
    replay_estimate,
    simulate_policies,
)

ALL_FAMILIES = "all"
# SPEC.md "Content Personalizer": CTR improvement of 35 % (over a uniformly random variant).
SPECIFICATION_CTR_UPLIFT_PCT = 35.0


@dataclass(frozen=True)
class BanditReport:
    """`posterior_choice` and `replay` have one row per family plus "all" (CTR averaged)."""

    simulation: BanditSimulation
    posterior_choice: pd.DataFrame  # family, posterior_choice_ctr, oracle_ctr, uniform_ctr
    replay: pd.DataFrame  # family, replay_ctr, logged_ctr, n_accepted, n_logged
    rounds: int

    def simulated(self, family: str, policy: str, column: str = "ctr") -> float:
        summary = self.simulation.summary.set_index(["family", "policy"])
        return float(summary.loc[(family, policy), column])

    def metrics(
        self,
        model_name: str,
        model_version: str,
        evaluation_window: str,
        evaluated_at: dt.datetime,
    ) -> pl.DataFrame:
        """Rows of monitoring.model_evaluations, per family and for "all": `value` is Thompson
        sampling (or the stored posteriors' choice), `baseline_value` uniform random unless the
        metric names ε-greedy."""
        rows = []
        choice = self.posterior_choice.set_index("family")
        replay = self.replay.set_index("family")
        for family in self.simulation.summary["family"].unique():
            rows += [
                (
                    f"simulated_ctr_{family}",
                    self.simulated(family, THOMPSON),
                    self.simulated(family, ORACLE),
                    self.simulated(family, UNIFORM_RANDOM),
                ),
                (
                    f"simulated_ctr_vs_epsilon_greedy_{family}",
                    self.simulated(family, THOMPSON),
                    self.simulated(family, ORACLE),
                    self.simulated(family, EPSILON_GREEDY),
                ),
                (
                    f"cumulative_regret_{family}",
                    self.simulated(family, THOMPSON, "cumulative_regret"),
                    0.0,
                    self.simulated(family, UNIFORM_RANDOM, "cumulative_regret"),
                ),
                (
                    f"ctr_uplift_vs_uniform_random_pct_{family}",
                    self.simulated(family, THOMPSON, "uplift_vs_uniform_random_pct"),
                    self.simulated(family, ORACLE, "uplift_vs_uniform_random_pct"),
                    self.simulated(family, EPSILON_GREEDY, "uplift_vs_uniform_random_pct"),
                ),
                (
                    f"ctr_uplift_vs_epsilon_greedy_pct_{family}",
                    self.simulated(family, THOMPSON, "uplift_vs_epsilon_greedy_pct"),
                    self.simulated(family, ORACLE, "uplift_vs_epsilon_greedy_pct"),
                    None,
                ),
                (
                    f"posterior_choice_ctr_{family}",
                    float(choice.loc[family, "posterior_choice_ctr"]),
                    float(choice.loc[family, "oracle_ctr"]),
                    float(choice.loc[family, "uniform_ctr"]),
                ),
                (
                    f"replay_ctr_{family}",
                    float(replay.loc[family, "replay_ctr"]),
                    None,
                    float(replay.loc[family, "logged_ctr"]),
                ),
                (
                    f"replay_accepted_sends_{family}",
                    float(replay.loc[family, "n_accepted"]),
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
        """Per family: simulated CTR of each policy, regret, the stored posteriors' choice and
        the replay estimate, with the specification's target."""
        choice = self.posterior_choice.set_index("family")
        replay = self.replay.set_index("family")
        lines = [
            f"Simulation: {self.rounds} sends per family on the true CTRs.",
            "",
            "| family | Thompson | ε-greedy | uniform random | oracle | Thompson uplift vs random "
            "| regret Thompson / random | posterior's choice | replay (logged) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for family in self.simulation.summary["family"].unique():
            lines.append(
                f"| {family} | {self.simulated(family, THOMPSON):.4f} "
                f"| {self.simulated(family, EPSILON_GREEDY):.4f} "
                f"| {self.simulated(family, UNIFORM_RANDOM):.4f} "
                f"| {self.simulated(family, ORACLE):.4f} "
                f"| {self.simulated(family, THOMPSON, 'uplift_vs_uniform_random_pct'):+.1f} % "
                f"| {self.simulated(family, THOMPSON, 'cumulative_regret'):.0f} / "
                f"{self.simulated(family, UNIFORM_RANDOM, 'cumulative_regret'):.0f} "
                f"| {choice.loc[family, 'posterior_choice_ctr']:.4f} "
                f"| {replay.loc[family, 'replay_ctr']:.4f} "
                f"({replay.loc[family, 'logged_ctr']:.4f}) |"
            )
        lines += [
            "",
            f"Specification: CTR +{SPECIFICATION_CTR_UPLIFT_PCT:.0f} % over uniform random; "
            f"Thompson sampling reached "
            f"{self.simulated(ALL_FAMILIES, THOMPSON, 'uplift_vs_uniform_random_pct'):+.1f} % "
            f"averaged over the families, the oracle "
            f"{self.simulated(ALL_FAMILIES, ORACLE, 'uplift_vs_uniform_random_pct'):+.1f} %.",
        ]
        return "\n".join(lines)

    def regret_png(self) -> bytes:
        """Cumulative regret per round of every policy, one panel per family."""
        curves = self.simulation.regret_curves
        families = list(dict.fromkeys(curves["family"]))
        figure = Figure(figsize=(4.0 * len(families), 3.6), layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, len(families), sharey=True))
        for axis, family in zip(axes, families, strict=True):
            for policy, rows in curves[curves["family"] == family].groupby("policy", sort=False):
                axis.plot(rows["round"], rows["cumulative_regret"], label=policy)
            axis.set(title=family, xlabel="send")
        axes[0].set(ylabel="cumulative regret (clicks)")
        axes[0].legend(loc="upper left", fontsize="small")
        buffer = io.BytesIO()
        FigureCanvasAgg(figure).print_png(buffer)
        return buffer.getvalue()


def _posterior_choice(
    personalizer: ContentPersonalizer, true_ctr: pd.DataFrame, segment_weights: Mapping[str, float]
) -> pd.DataFrame:
    rows = []
    for family, sampler in personalizer.samplers.items():
        ctr = ctr_matrix(true_ctr, family, sampler.contexts, sampler.arms)
        weights = np.asarray([segment_weights.get(s, 0.0) for s in sampler.contexts])
        weights = weights / weights.sum()
        mean = sampler.alpha / (sampler.alpha + sampler.beta)
        chosen = ctr[np.arange(len(ctr)), mean.argmax(axis=1)]
        rows.append(
            (family, chosen @ weights, ctr.max(axis=1) @ weights, ctr.mean(axis=1) @ weights)
        )
    frame = pd.DataFrame(
        rows, columns=["family", "posterior_choice_ctr", "oracle_ctr", "uniform_ctr"]
    )
    overall = frame.drop(columns="family").mean().to_frame().T.assign(family=ALL_FAMILIES)
    return pd.concat([frame, overall], ignore_index=True)


def _replay(personalizer: ContentPersonalizer, feedback: pl.DataFrame, seed: int) -> pd.DataFrame:
    rows = []
    rewards = feedback["clicked_within_7d"].to_numpy()
    for family, sampler in personalizer.samplers.items():
        estimate = replay_estimate(
            ThompsonSampler(sampler.contexts, sampler.arms),
            feedback["segment"].to_list(),
            feedback[personalizer.variant_columns[family]].to_list(),
            rewards,
            np.random.default_rng(seed),
        )
        rows.append(
            (family, estimate.ctr, float(rewards.mean()), estimate.n_accepted, estimate.n_logged)
        )
    frame = pd.DataFrame(
        rows, columns=["family", "replay_ctr", "logged_ctr", "n_accepted", "n_logged"]
    )
    overall = {
        "family": ALL_FAMILIES,
        "replay_ctr": frame["replay_ctr"].mean(),
        "logged_ctr": frame["logged_ctr"].mean(),
        "n_accepted": frame["n_accepted"].sum(),
        "n_logged": frame["n_logged"].sum(),
    }
    return pd.concat([frame, pd.DataFrame([overall])], ignore_index=True)


def assess_bandit(
    personalizer: ContentPersonalizer,
    true_ctr: pd.DataFrame,
    feedback: pl.DataFrame,
    *,
    rounds: int,
    batch_size: int,
    epsilon: float,
    seed: int,
) -> BanditReport:
    """Simulate on the true CTRs (segments arriving as often as in `feedback`), judge the stored
    posteriors' choices and replay Thompson sampling on `feedback` (logged sends in time order:
    segment, each family's variant column, clicked_within_7d)."""
    if feedback.is_empty():
        raise ValueError("the bandit's evaluation needs logged feedback")
    counts = feedback["segment"].value_counts()
    weights = dict(zip(counts["segment"].to_list(), counts["count"].to_list(), strict=True))
    segment_weights = {segment: float(weights.get(segment, 0)) for segment in true_ctr["segment"]}
    simulation = simulate_policies(
        true_ctr,
        rounds,
        seed,
        segment_weights=segment_weights,
        batch_size=batch_size,
        epsilon=epsilon,
    )
    return BanditReport(
        simulation=simulation,
        posterior_choice=_posterior_choice(personalizer, true_ctr, segment_weights),
        replay=_replay(personalizer, feedback, seed),
        rounds=rounds,
    )
