"""Send time offline: how close to the oracle's hour can the product get, and with what?

On a simulated world's bootstrap history (the legacy policy's logs), every policy is judged on the
same held-out clients from the true open probabilities (`send_time.evaluation`): a random hour, the
population's best hour, each client's most frequent engagement hour (the industry's baseline),
the DQN pre-trained off-policy from the logs, and two ceilings:

  - a reward model told the preferred hours: the DQN's reward model (`open_model`) fitted with each
    client's true chronotype (read from `truth`) added to its state, sending at its best hour — how
    far the logs' outcomes carry once the hours are known;
  - the oracle: each client's truly best hour.

Also the DQN's iterations to convergence (true open rate of its checkpoints' hours) and training
time. The ratios print against the population's best hour, measured in the same run.

    .venv/bin/python benchmarks/send_time_ceiling.py [--scale default] [--seed 7] [--iterations 600]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import polars as pl
import torch
from feature_warehouse import build_feature_warehouse
from machine import load_average, machine_description

from roi_assets.evaluation.truth_tables import send_hour_probabilities
from roi_assets.send_time.dqn import DQNConfig
from roi_assets.send_time.engagement_hours import engagement_counts, engagement_hour_table
from roi_assets.send_time.environment import STATE_FEATURES
from roi_assets.send_time.evaluation import evaluate_send_time
from roi_assets.send_time.held_out import is_held_out
from roi_assets.send_time.off_policy import chain_transitions, fit_reward_model
from roi_assets.send_time.policies import population_best_hour
from roi_assets.send_time.states import client_states, latest_moment, logged_send_states
from roi_assets.send_time.training import train_send_time_dqn
from roi_assets.simulator.behaviour import CHRONOTYPES

TOLD = "told_preferred_hours"


def _told_preferred_hours(
    logged: pl.DataFrame, states: pl.DataFrame, chronotype: pl.DataFrame, seed: int
) -> pl.DataFrame:
    """Held-out clients' best hours under a reward model whose state carries the true chronotype
    (one-hot, in place of the last features so the width stays the contract's)."""
    k = len(CHRONOTYPES)
    told = [*STATE_FEATURES[:-k], *(f"chronotype_{i}" for i in range(k))]

    def with_type(frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.join(chronotype, on="client_id", how="inner")
        return frame.with_columns(
            (pl.col("chronotype") == i).cast(pl.Float32).alias(f"chronotype_{i}") for i in range(k)
        ).with_columns(pl.col(f"chronotype_{i}").alias(STATE_FEATURES[-k + i]) for i in range(k))

    training = logged.filter(~is_held_out(logged["client_id"]))
    transitions = chain_transitions(with_type(training), with_type(states))
    model = fit_reward_model(transitions, seed=seed)
    held_out = with_type(states.filter(is_held_out(states["client_id"])))
    hours = model.open_probabilities(held_out.select(told).to_numpy()).argmax(axis=1)
    return pl.DataFrame({"client_id": held_out["client_id"], "hour": hours})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="default")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=600)
    parser.add_argument("--warehouse", type=Path, help="an existing feature warehouse to reuse")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        warehouse = args.warehouse or build_feature_warehouse(args.scale, args.seed, Path(folder))
        with duckdb.connect(str(warehouse), read_only=True) as con:
            moment = latest_moment(con)
            states = client_states(con, moment)
            logged = logged_send_states(con)
            truth = send_hour_probabilities(con)
            chronotype = con.execute("select client_id, chronotype from truth.client_traits").pl()
            ids = states["client_id"].to_list()
            fallback = population_best_hour(
                logged["hour_of_week"].to_numpy(), logged["opened"].to_numpy()
            )
            engagement = engagement_hour_table(engagement_counts(con, moment, ids), ids, fallback)
        started = time.perf_counter()
        training = train_send_time_dqn(
            logged,
            states,
            config=DQNConfig(batch_size=256, gradient_steps_per_iteration=1, device="cpu"),
            iterations=args.iterations,
            checkpoint_every=25,
        )
        seconds = time.perf_counter() - started
        told = _told_preferred_hours(logged, states, chronotype, args.seed)
        evaluation = evaluate_send_time(
            training.agent,
            states,
            logged,
            truth,
            training.checkpoints,
            engagement,
            extra_hours={TOLD: told},
        )
    print(f"# send time offline, {args.scale} world seed {args.seed}: {machine_description()}")
    print(f"# load average before: {load_average()}")
    print(evaluation.markdown())
    population = evaluation.value("population_best_hour")
    print("\n| policy | open rate | ratio to population best |\n| --- | ---: | ---: |")
    for policy in evaluation.policies["policy"]:
        value = evaluation.value(policy)
        print(f"| {policy} | {value:.4f} | {value / population:.3f} |")
    print(
        f"\nDQN: {args.iterations} iterations in {seconds:.1f} s "
        f"({training.n_training_sends} logged transitions), converged at "
        f"{evaluation.iterations_to_convergence}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
