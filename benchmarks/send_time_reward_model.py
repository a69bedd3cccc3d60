"""The send-time reward model: XGBoost (the product) against scikit-learn's HistGradientBoosting
(what the product used before), the same trees on the same logged sends in the same run.

Both are fitted on the warehouse's logged sends but the last 14 days, with early stopping on a
10 % slice; each is timed fitting, and predicting what a daily DQN update asks of it (150
minibatches of 256 sends, 168 hours each). Quality is the log loss and ROC AUC of the observed
opens of the last 14 days' sends at the hour they went out: realised outcomes, not the world's
truth.

    make run && .venv/bin/python benchmarks/send_time_reward_model.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from machine import load_average, machine_description, timed
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import log_loss, roc_auc_score

from roi_assets import settings
from roi_assets.send_time.open_model import OpenProbabilityModel, state_hour_features
from roi_assets.send_time.training import state_matrix

LOGGED_SENDS = "features.feat_send_time_logged_sends"
HELD_OUT_DAYS = 14
DAILY_UPDATE_STATES = 150 * 256


class HistGradientBoostingReward:
    """The reward model as it was: the same tree settings in scikit-learn."""

    def __init__(self, states: np.ndarray, hours: np.ndarray, opened: np.ndarray) -> None:
        self.classifier = HistGradientBoostingClassifier(
            learning_rate=0.05, max_iter=200, max_leaf_nodes=15, early_stopping=True,
            validation_fraction=0.1, random_state=0,
        ).fit(state_hour_features(states, hours), opened)  # fmt: skip

    def open_probabilities(self, states: np.ndarray) -> np.ndarray:
        every_hour = np.tile(np.arange(168), len(states))
        features = state_hour_features(np.repeat(states, 168, axis=0), every_hour)
        return self.classifier.predict_proba(features)[:, 1].reshape(len(states), 168)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", default=str(settings.warehouse_path()))
    args = parser.parse_args()
    if not Path(args.warehouse).exists():
        sys.exit(f"no warehouse at {args.warehouse}: run `make run` first")
    print(machine_description())
    print(f"load average before: {load_average()}")
    with duckdb.connect(args.warehouse, read_only=True) as con:
        sends = con.execute(f"select * from {LOGGED_SENDS} order by sent_at").pl()
    cutoff = sends["sent_at"].max() - pl.duration(days=HELD_OUT_DAYS)
    cut = sends.select(pl.col("sent_at") <= cutoff).to_series()
    fitting, held_out = sends.filter(cut), sends.filter(~cut)
    states, hours = state_matrix(fitting), fitting["hour_of_week"].to_numpy()
    opened = fitting["opened"].to_numpy().astype(int)
    draws = states[np.random.default_rng(0).integers(0, len(states), DAILY_UPDATE_STATES)]
    print(f"{fitting.height:,} sends fitted, {held_out.height:,} held out ({HELD_OUT_DAYS} days)")
    rows = np.arange(held_out.height)
    results = {}
    for name, fit in (
        ("HistGradientBoosting", lambda: HistGradientBoostingReward(states, hours, opened)),
        ("XGBoost", lambda: OpenProbabilityModel.fit(states, hours, opened)),
    ):
        model, fit_seconds = timed(fit)
        _, predict_seconds = timed(lambda m=model: m.open_probabilities(draws))
        p = model.open_probabilities(state_matrix(held_out))[
            rows, held_out["hour_of_week"].to_numpy()
        ]
        observed = held_out["opened"].to_numpy().astype(int)
        results[name] = (fit_seconds, predict_seconds)
        print(
            f"{name:<21} fit {fit_seconds:6.1f} s, daily update's predictions "
            f"{predict_seconds:6.1f} s; held-out log loss {log_loss(observed, p):.4f}, "
            f"AUC {roc_auc_score(observed, p):.4f}"
        )
    (base_fit, base_predict), (fit, predict) = results.values()
    print(f"XGBoost fit: ratio {fit / base_fit:.2f} against HistGradientBoosting")
    print(f"XGBoost predictions: ratio {predict / base_predict:.2f} against HistGradientBoosting")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
