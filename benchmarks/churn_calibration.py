"""Platt scaling or isotonic regression for the churn stacks? Both, on the same rows.

Reads a data folder where `churn_model` has run (ROI_DATA_DIR: the warehouse and the MLflow store),
loads each window's candidate, scores its calibration window and its evaluation window with the
stack before calibration, fits both calibrators on the calibration window and reports on the
evaluation window, next to the oracle (the world's true probabilities): AUC, the decile
calibration error against the observed rates and against the true probabilities, the mean
prediction, and the clients per tier against the truth's count. The uncalibrated stack is the
baseline measured in the same run. Nothing is retrained and nothing is written.

    ROI_DATA_DIR=... .venv/bin/python benchmarks/churn_calibration.py
"""

from __future__ import annotations

import sys

import duckdb
import numpy as np
from machine import load_average, machine_description
from sklearn.metrics import roc_auc_score

from roi_assets import settings
from roi_assets.churn.calibration import CALIBRATION_METHODS, ProbabilityCalibrator
from roi_assets.churn.ensemble import UNCALIBRATED, registered_model_name
from roi_assets.churn.features import PREDICTION_WINDOWS, build_sequences
from roi_assets.churn.splits import split_window
from roi_assets.churn.tiers import RISK_TIERS, tier_index
from roi_assets.evaluation.binary_metrics import decile_calibration_error
from roi_assets.evaluation.calibration import truth_gap
from roi_assets.evaluation.truth_tables import churn_probabilities
from roi_assets.resources.tracking import (
    CANDIDATE,
    configure_tracking,
    load_model_by_alias,
    params_behind_alias,
)

KEYS = ["client_id", "snapshot_date"]


def _tiers(probabilities: np.ndarray) -> str:
    counts = np.bincount(tier_index(probabilities), minlength=len(RISK_TIERS))
    return " / ".join(str(count) for count in counts)


def _line(name: str, outcomes, scores, truth) -> str:
    return (
        f"  {name:22s} AUC {roc_auc_score(outcomes, scores):.4f}  "
        f"ECE deciles {decile_calibration_error(outcomes, scores):.4f}  "
        f"gap to truth {truth_gap(scores, truth):.4f}  mean {scores.mean():.4f}  "
        f"tiers {_tiers(scores)}"
    )


def main() -> int:
    print(machine_description())
    print(f"data folder {settings.data_dir()}; load average at start={load_average()}")
    configure_tracking("churn-calibration-study")
    with duckdb.connect(str(settings.warehouse_path()), read_only=True) as con:
        churn = con.sql("select * from features.feat_client_churn").pl().sort(KEYS)
        daily = con.sql("select * from features.feat_client_daily").pl()
        truths = {window: churn_probabilities(con, window) for window in PREDICTION_WINDOWS}
    for window in PREDICTION_WINDOWS:
        model_name = registered_model_name(window)
        params = params_behind_alias(model_name, CANDIDATE)
        if not params:
            print(f"{window}d: no candidate")
            continue
        split = split_window(churn, window, boundary_purge_days=int(params["boundary_purge_days"]))
        ensemble = load_model_by_alias(model_name, CANDIDATE).unwrap_python_model().ensemble
        calibration, evaluation = (
            frame.join(truths[window], on=KEYS, how="inner")
            for frame in (split.calibration, split.evaluation)
        )
        raw_calibration = ensemble.member_probabilities(
            calibration, build_sequences(daily, calibration)
        )[UNCALIBRATED]
        raw = ensemble.member_probabilities(evaluation, build_sequences(daily, evaluation))[
            UNCALIBRATED
        ]
        outcomes = evaluation[split.label].to_numpy()
        truth = evaluation["p_churn"].to_numpy()
        print(
            f"{window}d {model_name} (candidate calibrated with "
            f"{params.get('calibration_method', 'nothing')}): calibration "
            f"{split.calibration_window.label} ({calibration.height:,} rows, purge "
            f"{split.calibration_purge_days} days), evaluation {split.evaluation_window.label} "
            f"({evaluation.height:,} rows, observed churn {outcomes.mean():.4f}); "
            "tiers low / medium / high / critical"
        )
        print(_line("oracle", outcomes, truth, truth))
        print(_line("stack uncalibrated", outcomes, raw, truth))
        for method in CALIBRATION_METHODS:
            calibrator = ProbabilityCalibrator.fit(
                raw_calibration, calibration[split.label].to_numpy(), method
            )
            print(_line(f"stack + {method}", outcomes, calibrator.transform(raw), truth))
        print(f"  churners among evaluated rows: {int(outcomes.sum()):,}")
    print(f"load average at end={load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
