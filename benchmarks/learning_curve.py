"""Learning curves: how much history the engagement and churn models need, on a built warehouse.

At `large` the product trains on a sample (`engagement.assets.MAX_TRAINING_ROWS`, the latest sends
before the evaluation window; `ChurnTrainingConfig.max_training_clients`, every snapshot of a
random set of clients). This measures what the sample gives up: each model is trained on growing
samples drawn as the product draws them and judged on the same later window the product evaluates
on, next to the oracle (the same metric from the world's true probabilities). The smallest sample
is the baseline of the same run: each line prints its AUC's ratio to it.

- engagement: the product's pipeline at one grid point of the specification's grid (2-fold
  time-series validation, as the daily refit), opens and clicks, on the whole evaluation window;
- churn: the 30-day window's stack (forest + LSTM + meta-learner, the product's training budget),
  on the evaluation snapshots of `--churn-evaluation-clients` clients drawn at random.

    .venv/bin/python benchmarks/learning_curve.py --warehouse data/warehouse.duckdb \
        [--engagement-rows 50000 100000 200000 400000 800000] [--churn-clients 2500 5000 10000]

The warehouse is opened read-only; it must hold `features.*` and the world's `truth.*`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
from machine import load_average, machine_description
from sklearn.metrics import roc_auc_score

from roi_assets.churn.daily_reads import daily_rows_for, sequences_for
from roi_assets.churn.ensemble import STACK
from roi_assets.churn.splits import sample_training_clients, split_window
from roi_assets.churn.training import TrainingBudget, train_window
from roi_assets.engagement.assets import EVALUATION_FRACTION, TRUE_PROBABILITY
from roi_assets.engagement.features import HEADLINE_TARGET, TIME_COLUMN, labelled_history
from roi_assets.engagement.model import predict_proba, train_engagement_model
from roi_assets.evaluation.truth_tables import churn_probabilities, email_send_probabilities
from roi_assets.evaluation.windows import latest_rows, time_ordered_split

ONE_POINT = {
    "classifier__n_estimators": [200],
    "classifier__max_depth": [5],
    "classifier__learning_rate": [0.1],
}
ENGAGEMENT_TARGETS = ("opened_within_7d", "clicked_within_7d")
CHURN_WINDOW = 30
SEED = 0


def _sizes(asked: list[int], available: int) -> list[int]:
    """The asked sample sizes below what is available, and everything once when one reaches it."""
    below = [size for size in asked if size < available]
    return [*below, available] if len(below) < len(asked) else below


def engagement_curve(con: duckdb.DuckDBPyConnection, sizes: list[int]) -> None:
    features = con.execute("select * from features.feat_email_engagement").pl()
    labelled = labelled_history(features, HEADLINE_TARGET)
    training, evaluation = time_ordered_split(labelled, TIME_COLUMN, EVALUATION_FRACTION)
    evaluation = evaluation.join(email_send_probabilities(con), on="send_id", how="inner")
    print(
        f"engagement: {training.height:,} labelled sends before the evaluation window, "
        f"{evaluation.height:,} in it"
    )
    for target in ENGAGEMENT_TARGETS:
        outcomes = evaluation[target].to_numpy()
        oracle = roc_auc_score(outcomes, evaluation[TRUE_PROBABILITY[target]].to_numpy())
        print(f"  {target}: oracle AUC {oracle:.4f}")
        first = None
        for size in _sizes(sizes, training.height):
            sample = latest_rows(training, TIME_COLUMN, size)
            start = time.perf_counter()
            model = train_engagement_model(sample, target, param_grid=ONE_POINT, n_splits=2)
            seconds = time.perf_counter() - start
            auc = roc_auc_score(outcomes, predict_proba(model, evaluation))
            first = first or auc
            since = sample[TIME_COLUMN].min()
            print(
                f"    latest {sample.height:>9,} sends (from {since:%Y-%m-%d}): "
                f"AUC {auc:.4f} = {auc / oracle:6.1%} of the oracle, ratio to the smallest "
                f"{auc / first:.3f}, fit {seconds:6.1f} s"
            )


def churn_curve(con: duckdb.DuckDBPyConnection, sizes: list[int], evaluation_clients: int) -> None:
    churn = con.execute("select * from features.feat_client_churn").pl()
    churn = churn.sort("client_id", "snapshot_date")
    split = split_window(churn, CHURN_WINDOW)
    evaluated = split.evaluation["client_id"].unique().sort()
    evaluated = evaluated.sample(min(evaluation_clients, evaluated.len()), seed=SEED)
    evaluation = split.evaluation.filter(pl.col("client_id").is_in(evaluated.implode())).join(
        churn_probabilities(con, CHURN_WINDOW), on=["client_id", "snapshot_date"], how="inner"
    )
    outcomes = evaluation[split.label].to_numpy()
    oracle = roc_auc_score(outcomes, evaluation["p_churn"].to_numpy())
    clients = split.training["client_id"].n_unique()
    print(
        f"churn {CHURN_WINDOW}d: {clients:,} training clients ({split.training.height:,} "
        f"snapshots); evaluated on {evaluation.height:,} snapshots of {evaluated.len():,} "
        f"clients; oracle AUC {oracle:.4f}"
    )
    evaluation_sequences = sequences_for(con, evaluation)
    first = None
    for size in _sizes(sizes, clients):
        sampled = sample_training_clients(split, size, SEED)
        daily = daily_rows_for(con, sampled.training)
        start = time.perf_counter()
        ensemble, _ = train_window(sampled, daily, TrainingBudget())
        seconds = time.perf_counter() - start
        scores = ensemble.member_probabilities(evaluation, evaluation_sequences)[STACK]
        auc = roc_auc_score(outcomes, scores)
        first = first or auc
        print(
            f"    {size:>7,} clients ({sampled.training.height:>9,} snapshots): AUC {auc:.4f} = "
            f"{auc / oracle:6.1%} of the oracle, ratio to the smallest {auc / first:.3f}, "
            f"fit {seconds:6.1f} s"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument(
        "--engagement-rows", type=int, nargs="*", default=[50_000, 100_000, 200_000, 400_000]
    )
    parser.add_argument("--churn-clients", type=int, nargs="*", default=[2_500, 5_000, 10_000])
    parser.add_argument("--churn-evaluation-clients", type=int, default=20_000)
    args = parser.parse_args(argv)
    print(machine_description())
    print(f"warehouse={args.warehouse} load average at start={load_average()}")
    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        if args.engagement_rows:
            engagement_curve(con, sorted(args.engagement_rows))
        if args.churn_clients:
            churn_curve(con, sorted(args.churn_clients), args.churn_evaluation_clients)
    print(f"load average at end={load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
