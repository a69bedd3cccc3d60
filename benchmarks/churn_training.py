"""Churn training time per member and stack, and scoring throughput, on this machine.

Simulates the default world in a temporary folder, builds the features, and trains each window's
ensemble as `make run` does (`train_window` with the default `TrainingBudget`, training snapshots
purged by the window before the evaluation window). Training time is reported per member (its
out-of-fold fits plus its final fit) and for the stack's meta-learner, next to the window's AUC and
the oracle's on the evaluation window. The baseline, measured in the same run, is the forest alone:
its final fit on all training rows (time) and its scoring of the same rows (throughput); the ratios
say what the LSTM and the stacking cost over a plain forest.

The LSTM member is then fitted alone on each window's training rows in float32 (the baseline) and
in bfloat16 autocast (what the pipeline trains in on a CPU with native bfloat16), with its AUC on
the evaluation window next to the seconds; the ratio is float32 / bfloat16.

Scoring throughput is measured on the 30-day window's evaluation rows (clients per second, best of
three): the stack through the MLflow pyfunc model the registry serves (input frame given), and the
mart's full row (probability, tier, SHAP reasons from the medium tier up, retention action) for
every active client. Exact SHAP values of 300 trees of depth 10 are the slow part, so reasons alone
are timed on the first SHAP_ROWS evaluation rows, as if those clients were at medium risk or above:
their rate bounds the mart's when many clients are at risk.

    .venv/bin/python benchmarks/churn_training.py [--scale default] [--seed 7]
        [--warehouse <a warehouse.duckdb that make run built, read only>]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import duckdb
import mlflow.pyfunc
import polars as pl
import torch
from feature_warehouse import build_feature_warehouse, read_feature_table
from machine import load_average, machine_description
from sklearn.metrics import roc_auc_score

from roi_assets.churn.features import PREDICTION_WINDOWS, build_sequences, tabular_matrix
from roi_assets.churn.pyfunc import (
    ARTIFACT_KEY,
    ChurnPyfuncModel,
    pyfunc_input_frame,
    pyfunc_requirements,
)
from roi_assets.churn.reasons import explain_reasons
from roi_assets.churn.scoring import latest_snapshot_rows, risk_rows
from roi_assets.churn.sequence_model import (
    BFLOAT16,
    FLOAT32,
    SequenceChurnModel,
    training_precision,
)
from roi_assets.churn.splits import SNAPSHOT_COLUMN, split_window
from roi_assets.churn.training import TrainingBudget, train_window
from roi_assets.evaluation.truth_tables import churn_probabilities

KEYS = ["client_id", "snapshot_date"]
REPEATS = 3
SHAP_ROWS = 300


def _best_seconds(work: Callable[[], object]) -> float:
    """The fastest of REPEATS calls: the machine's speed, less the noise of its neighbours."""
    timings = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return min(timings)


def _train_windows(churn: pl.DataFrame, daily: pl.DataFrame, warehouse: Path) -> dict:
    budget = TrainingBudget()
    print(f"budget: {budget}")
    trained = {}
    total = 0.0
    for window in PREDICTION_WINDOWS:
        split = split_window(churn, window)
        start = time.perf_counter()
        ensemble, _ = train_window(split, daily, budget)
        seconds = time.perf_counter() - start
        total += seconds
        fit = ensemble.fit_seconds_
        forest = fit["forest_oof"] + fit["forest_final"]
        lstm = fit["lstm_oof"] + fit["lstm_final"]
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = split.evaluation.join(churn_probabilities(con, window), on=KEYS)
        scores = ensemble.member_probabilities(rows, build_sequences(daily, rows))
        outcome = rows[split.label].to_numpy()
        auc = {name: roc_auc_score(outcome, values) for name, values in scores.items()}
        print(
            f"{window}d: {split.training.height:,} training rows, {len(ensemble.folds_)} folds, "
            f"out-of-fold purge {ensemble.purge_days} days, LSTM epochs (final) "
            f"{ensemble.lstm_.epochs_trained}; {seconds:.1f} s in all: forest {forest:.1f} s, "
            f"LSTM {lstm:.1f} s, stack {fit['meta']:.2f} s; "
            f"baseline forest alone {fit['forest_final']:.1f} s, "
            f"ratio window / forest alone = {seconds / fit['forest_final']:.1f}; "
            f"AUC stack {auc['stack']:.3f}, forest {auc['forest']:.3f}, LSTM {auc['lstm']:.3f}, "
            f"oracle {roc_auc_score(outcome, rows['p_churn']):.3f} on {rows.height:,} rows"
        )
        trained[window] = (ensemble, split)
    print(f"all three windows: {total:.1f} s (torch threads {torch.get_num_threads()})")
    return trained


def _lstm_precisions(churn: pl.DataFrame, daily: pl.DataFrame) -> None:
    params = TrainingBudget().ensemble(PREDICTION_WINDOWS[0], 0).lstm_params
    default = training_precision(params, torch.device("cpu"))
    print(f"LSTM member alone; this CPU trains in {default} by default")
    for window in PREDICTION_WINDOWS:
        split = split_window(churn, window)
        training, evaluation = split.training, split.evaluation
        sequences, evaluated = build_sequences(daily, training), build_sequences(daily, evaluation)
        outcome = evaluation[split.label].to_numpy()
        seconds, auc = {}, {}
        for precision in (FLOAT32, BFLOAT16):
            model = SequenceChurnModel(replace(params, training_precision=precision))
            start = time.perf_counter()
            model.fit(sequences, training[split.label].to_numpy(), training[SNAPSHOT_COLUMN])
            seconds[precision] = time.perf_counter() - start
            auc[precision] = roc_auc_score(outcome, model.predict_proba(evaluated))
        print(
            f"{window}d: float32 {seconds[FLOAT32]:.1f} s (AUC {auc[FLOAT32]:.3f}), bfloat16 "
            f"{seconds[BFLOAT16]:.1f} s (AUC {auc[BFLOAT16]:.3f}); "
            f"ratio float32 / bfloat16 = {seconds[FLOAT32] / seconds[BFLOAT16]:.2f}"
        )


def _scoring_throughput(
    trained: dict,
    churn: pl.DataFrame,
    daily: pl.DataFrame,
    subscriptions: pl.DataFrame,
    folder: Path,
) -> None:
    ensemble, split = trained[PREDICTION_WINDOWS[0]]
    rows = split.evaluation
    sequences = build_sequences(daily, rows)
    frame = pyfunc_input_frame(rows, sequences)
    model_path = folder / "pyfunc"
    mlflow.pyfunc.save_model(
        str(model_path),
        python_model=ChurnPyfuncModel(),
        artifacts={ARTIFACT_KEY: str(ensemble.save(folder / "ensemble"))},
        pip_requirements=pyfunc_requirements(),
    )
    served = mlflow.pyfunc.load_model(str(model_path))
    features = tabular_matrix(rows)
    forest_seconds = _best_seconds(lambda: ensemble.forest_.predict_proba(features))
    pyfunc_seconds = _best_seconds(lambda: served.predict(frame))
    explained = rows.head(SHAP_ROWS)
    reasons_seconds = _best_seconds(
        lambda: explain_reasons(ensemble, explained, sequences=sequences[:SHAP_ROWS])
    )
    n = rows.height
    print(
        f"scoring {n:,} evaluation rows: pyfunc stack {n / pyfunc_seconds:,.0f} clients/s; "
        f"baseline forest alone {n / forest_seconds:,.0f} clients/s, "
        f"ratio forest / stack = {pyfunc_seconds / forest_seconds:.1f}; "
        f"SHAP reasons {explained.height / reasons_seconds:,.0f} clients/s"
    )
    active = subscriptions.filter(pl.col("cancelled_date").is_null())["client_id"]
    latest = latest_snapshot_rows(churn, active)
    latest_sequences = build_sequences(daily, latest)
    scored_at = dt.datetime.now()
    mart_seconds = _best_seconds(
        lambda: risk_rows(
            ensemble, latest, latest_sequences, model_version="bench", scored_at=scored_at
        )
    )
    print(
        f"mart rows (probability, tier, reasons, action) for {latest.height:,} clients: "
        f"{latest.height / mart_seconds:,.0f} clients/s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="default", choices=["tiny", "default", "large"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--warehouse", type=Path, help="read these features instead of a new world")
    args = parser.parse_args(argv)
    print(machine_description())
    print(f"scale={args.scale} seed={args.seed} load average at start={load_average()}")
    data_dir = Path(tempfile.mkdtemp(prefix="roi_churn_training_"))
    try:
        warehouse = args.warehouse or build_feature_warehouse(args.scale, args.seed, data_dir)
        churn = read_feature_table(warehouse, "feat_client_churn")
        daily = read_feature_table(warehouse, "feat_client_daily")
        with duckdb.connect(str(warehouse), read_only=True) as con:
            subscriptions = con.execute("select * from staging.stg_subscriptions").pl()
        print(f"{churn.height:,} client snapshots, {daily.height:,} client days")
        trained = _train_windows(churn, daily, warehouse)
        _lstm_precisions(churn, daily)
        _scoring_throughput(trained, churn, daily, subscriptions, data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"load average at end={load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
