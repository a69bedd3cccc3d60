"""How close to the oracle can any churn model get on the default world?

The customer asked for a churn gate at 97 % of the oracle's AUC per window, and the oracle is the
true churn probability of each client x snapshot row: one minus the survival of the true hazard
over the window, which follows traits no model observes (satisfaction, interest in competitors,
and when the client's activity starts to decline, even when that is still to come). This study
measures where the observable data's ceiling lies, per window, on the same evaluation rows and the
same purged training rows the product uses (`split_window` with its default purge):

  - the product's random forest alone on the 20 tabular features (the specification's settings);
  - a gradient-boosted model (HistGradientBoosting) on the same features, a second model of the
    observable data;
  - the same plus the client's true satisfaction and competitor interest and the days since their
    decline began (negative while it is still ahead), read from `truth.client_traits`: a model that
    was told the hidden traits of the hazard, as the oracle knows them;
  - the same with the decline known only once it has begun (what a perfect observer of the past
    could know): the gap to the line above is the oracle's knowledge of the future.

Each line, the oracle's first, prints AUC and AUC as a fraction of the oracle's; the ratio to the
forest's is the "baseline measured in the same run".

    .venv/bin/python benchmarks/churn_ceiling.py [--scale default] [--seed 7]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from feature_warehouse import build_feature_warehouse, read_feature_table
from machine import load_average, machine_description
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import roc_auc_score

from roi_assets.churn.ensemble import FOREST_PARAMS
from roi_assets.churn.features import CHURN_FEATURES, PREDICTION_WINDOWS, tabular_matrix
from roi_assets.churn.folds import InsufficientHistory
from roi_assets.churn.splits import split_window
from roi_assets.churn.training import TrainingBudget
from roi_assets.evaluation.truth_tables import churn_probabilities
from roi_assets.simulator import world_config

KEYS = ["client_id", "snapshot_date"]
HAZARD_TRAITS = ["satisfaction", "competitor_interest", "days_since_decline_onset"]
PAST_TRAITS = ["satisfaction", "competitor_interest", "days_since_decline_began"]


def _with_traits(warehouse: Path, rows: pl.DataFrame, scale: str, seed: int) -> pl.DataFrame:
    """The rows with the client's true hazard traits; the decline onset as days before the
    snapshot (negative: still ahead; null: never), and again nulled while still ahead."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        traits = con.sql(
            "select client_id, satisfaction, competitor_interest, decline_onset_day "
            "from truth.client_traits"
        ).pl()
    start = world_config(scale, seed).start_date
    snapshot_day = (pl.col("snapshot_date") - pl.lit(start)).dt.total_days()
    since = (snapshot_day - pl.col("decline_onset_day")).alias("days_since_decline_onset")
    return (
        rows.join(traits, on="client_id")
        .with_columns(since)
        .with_columns(
            pl.when(pl.col("days_since_decline_onset") >= 0)
            .then(pl.col("days_since_decline_onset"))
            .alias("days_since_decline_began")
        )
    )


def _design(frame: pl.DataFrame, extra: list[str]) -> np.ndarray:
    """The 20 tabular features in contract order, then `extra` (nulls as NaN)."""
    matrix = tabular_matrix(frame)
    if not extra:
        return matrix
    more = frame.select(pl.col(c).cast(pl.Float64).fill_null(np.nan) for c in extra).to_numpy()
    return np.column_stack([matrix, more])


def _forest_auc(training: pl.DataFrame, evaluation: pl.DataFrame, label: str) -> float:
    params = {**FOREST_PARAMS, "n_estimators": TrainingBudget.forest_n_estimators, "n_jobs": 2}
    model = RandomForestClassifier(random_state=TrainingBudget.seed, **params)
    model.fit(tabular_matrix(training), training[label].to_numpy())
    return roc_auc_score(evaluation[label], model.predict_proba(tabular_matrix(evaluation))[:, 1])


def _boosted_auc(
    training: pl.DataFrame, evaluation: pl.DataFrame, label: str, extra: list[str]
) -> float:
    model = HistGradientBoostingClassifier(
        max_iter=300,
        learning_rate=0.05,
        max_leaf_nodes=31,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=0,
    )
    model.fit(_design(training, extra), training[label].to_numpy())
    return roc_auc_score(evaluation[label], model.predict_proba(_design(evaluation, extra))[:, 1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="default", choices=["tiny", "default", "large"])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(machine_description())
    print(f"scale={args.scale} seed={args.seed} load average at start={load_average()}")
    data_dir = Path(tempfile.mkdtemp(prefix="roi_churn_ceiling_"))
    try:
        warehouse = build_feature_warehouse(args.scale, args.seed, data_dir)
        # dbt writes the table in no fixed order; sorted, the forest's bootstrap repeats run to run.
        churn = read_feature_table(warehouse, "feat_client_churn").sort(KEYS)
        print(f"{churn.height:,} client snapshots, {len(CHURN_FEATURES)} tabular features")
        for window in PREDICTION_WINDOWS:
            try:
                split = split_window(churn, window)
            except InsufficientHistory as error:
                print(f"{window}d: skipped, {error}")
                continue
            label = split.label
            with duckdb.connect(str(warehouse), read_only=True) as con:
                truth = churn_probabilities(con, window)
            training = _with_traits(warehouse, split.training, args.scale, args.seed)
            evaluation = _with_traits(
                warehouse, split.evaluation.join(truth, on=KEYS, how="inner"), args.scale, args.seed
            )
            oracle = roc_auc_score(evaluation[label], evaluation["p_churn"])
            lines = {
                "oracle (true probabilities)": oracle,
                "product forest alone": _forest_auc(training, evaluation, label),
                "hist gradient boosting": _boosted_auc(training, evaluation, label, []),
                "+ true hazard traits": _boosted_auc(training, evaluation, label, HAZARD_TRAITS),
                "+ traits, decline once begun": _boosted_auc(
                    training, evaluation, label, PAST_TRAITS
                ),
            }
            forest = lines["product forest alone"]
            print(
                f"{window}d: {training.height:,} training rows (purge {split.boundary_purge_days} "
                f"days, churn rate {training[label].mean():.3f}), {evaluation.height:,} "
                f"evaluation rows {split.evaluation_window.label} "
                f"({int(evaluation[label].sum()):,} churners)"
            )
            for name, auc in lines.items():
                print(
                    f"  {name:30s} AUC {auc:.4f} = {auc / oracle:6.1%} of the oracle "
                    f"(ratio to the forest alone {auc / forest:.3f})"
                )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"load average at end={load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
