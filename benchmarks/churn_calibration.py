"""Where and how to calibrate the churn stacks: on the latest out-of-fold block (the product) or
on a calibration window carved out of the training rows (the baseline), with Platt or isotonic.

Builds a feature warehouse of the world (or reuses one in --workdir), then per prediction window
trains the ensemble twice with the product's budget, on the same purged evaluation rows:

  - held-out window (the earlier design, the baseline of the ratios): the latest fifth of the
    training snapshots calibrate, purged by the window from the earlier rows, which alone train;
  - latest out-of-fold block (the product, `ChurnEnsemble.fit`): every training row trains, and the
    calibrator is fitted on the meta-learner's probabilities of the latest out-of-fold block.

Each line prints the AUC and its share of the oracle's lift over chance (what the gate judges), the
decile calibration error against the observed rates (the oracle's is the sampling noise), the gap
to the true probabilities, the mean prediction and the clients per tier (low / medium / high /
critical), next to the oracle (the world's true probabilities).

    .venv/bin/python benchmarks/churn_calibration.py [--scale default] [--seed 7] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from feature_warehouse import build_feature_warehouse
from machine import load_average, machine_description
from sklearn.metrics import roc_auc_score

from roi_assets.churn.calibration import CALIBRATION_METHODS, ProbabilityCalibrator
from roi_assets.churn.ensemble import UNCALIBRATED, ChurnEnsemble
from roi_assets.churn.features import PREDICTION_WINDOWS, build_sequences
from roi_assets.churn.folds import longest_feasible_purge
from roi_assets.churn.splits import SNAPSHOT_COLUMN, WindowSplit, split_window
from roi_assets.churn.tiers import RISK_TIERS, tier_index
from roi_assets.churn.training import TrainingBudget, train_window
from roi_assets.evaluation.binary_metrics import decile_calibration_error
from roi_assets.evaluation.calibration import truth_gap
from roi_assets.evaluation.truth_tables import churn_probabilities
from roi_assets.evaluation.windows import time_ordered_split

KEYS = ["client_id", "snapshot_date"]
HELD_OUT_FRACTION = 0.2


def _tiers(probabilities: np.ndarray) -> str:
    counts = np.bincount(tier_index(probabilities), minlength=len(RISK_TIERS))
    return " / ".join(str(count) for count in counts)


def _line(name: str, outcomes: np.ndarray, scores: np.ndarray, truth: np.ndarray) -> str:
    auc, oracle = roc_auc_score(outcomes, scores), roc_auc_score(outcomes, truth)
    return (
        f"  {name:34s} AUC {auc:.4f} ({(auc - 0.5) / (oracle - 0.5):6.1%} of the oracle's lift)  "
        f"ECE deciles {decile_calibration_error(outcomes, scores):.4f}  "
        f"gap to truth {truth_gap(scores, truth):.4f}  mean {scores.mean():.4f}  "
        f"tiers {_tiers(scores)}"
    )


def _held_out_ensemble(
    split: WindowSplit, daily: pl.DataFrame, budget: TrainingBudget, method: str
) -> tuple[ChurnEnsemble, int]:
    """The earlier design: train on the rows before a held-out calibration window (purged by the
    window, or less when the history is short), then refit the calibrator on that window."""
    earlier, held_out = time_ordered_split(split.training, SNAPSHOT_COLUMN, HELD_OUT_FRACTION)
    first_held_out = held_out[SNAPSHOT_COLUMN].min()
    dates = earlier[SNAPSHOT_COLUMN].unique()
    purge = next(
        days
        for days in range(split.window_days, -1, -1)
        if (dates + dt.timedelta(days=days) < first_held_out).sum() >= 3 or days == 0
    )
    training = earlier.filter(pl.col(SNAPSHOT_COLUMN) + pl.duration(days=purge) < first_held_out)
    ensemble = budget.ensemble(
        split.window_days,
        longest_feasible_purge(training[SNAPSHOT_COLUMN], split.window_days, budget.n_folds),
    )
    ensemble.fit(training, build_sequences(daily, training), training[split.label],
                 training[SNAPSHOT_COLUMN])  # fmt: skip
    raw = ensemble.member_probabilities(held_out, build_sequences(daily, held_out))[UNCALIBRATED]
    ensemble.calibrator_ = ProbabilityCalibrator.fit(raw, held_out[split.label].to_numpy(), method)
    return ensemble, training[SNAPSHOT_COLUMN].n_unique()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="default")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="reuse (or build) the feature warehouse here")
    args = parser.parse_args()
    print(machine_description())
    print(f"scale {args.scale}, seed {args.seed}; load average at start={load_average()}")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="churn-calibration-"))
    warehouse = workdir / "warehouse.duckdb"
    if not warehouse.exists():
        build_feature_warehouse(args.scale, args.seed, workdir)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        churn = con.sql("select * from features.feat_client_churn").pl().sort(KEYS)
        daily = con.sql("select * from features.feat_client_daily").pl()
        daily = daily.sort("client_id", "activity_date")
        truths = {
            window: churn_probabilities(con, window).with_columns(pl.col(KEYS[1]).cast(pl.Date))
            for window in PREDICTION_WINDOWS
        }
    budget = TrainingBudget()
    for window in PREDICTION_WINDOWS:
        split = split_window(churn, window)
        evaluation = split.evaluation.join(truths[window], on=KEYS, how="inner")
        sequences = build_sequences(daily, evaluation)
        outcomes, truth = evaluation[split.label].to_numpy(), evaluation["p_churn"].to_numpy()
        print(
            f"{window}d: evaluation {split.evaluation_window.label} ({evaluation.height:,} rows, "
            f"{int(outcomes.sum()):,} churners); tiers low / medium / high / critical"
        )
        print(_line("oracle", outcomes, truth, truth))
        for method in CALIBRATION_METHODS:
            held_out, trained_dates = _held_out_ensemble(split, daily, budget, method)
            scores = held_out.member_probabilities(evaluation, sequences)
            if method == CALIBRATION_METHODS[0]:
                print(f"  held-out window: {trained_dates} training snapshots")
                print(_line("held-out window, uncalibrated", outcomes, scores[UNCALIBRATED], truth))
            print(_line(f"held-out window + {method}", outcomes, scores["stack"], truth))
            product, _ = train_window(split, daily, budget, method)
            scores = product.member_probabilities(evaluation, sequences)
            if method == CALIBRATION_METHODS[0]:
                print(
                    f"  latest out-of-fold block: {split.training[SNAPSHOT_COLUMN].n_unique()} "
                    f"training snapshots, calibrated on {len(product.calibration_dates_)}"
                )
                print(_line("out-of-fold, uncalibrated", outcomes, scores[UNCALIBRATED], truth))
                for member in ("forest", "lstm"):
                    print(_line(f"out-of-fold, {member} alone", outcomes, scores[member], truth))
            print(_line(f"latest out-of-fold block + {method}", outcomes, scores["stack"], truth))
    print(f"load average at end={load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
