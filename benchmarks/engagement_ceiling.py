"""How close to the oracle can any engagement model get on the default world?

The validation gate compares a model's AUC with the oracle's, which is computed from the true
probabilities and therefore from traits no model observes: each client's latent propensity to
open and their preferred hours (chronotype). This study measures where the observable data's
ceiling lies, on the same later window the product evaluates on (the last 20 % of sends in time):

  - the product's pipeline (one grid point, SelectKBest k=30) — what the gate judges;
  - a plain XGBoost on every product feature (no feature selection);
  - the same plus days since the client's last login (in the true model, observable, not a
    feature yet);
  - the same plus the client's true propensity and chronotype read from `truth` — a model that
    was told the hidden traits; the gap left is per-send noise only an oracle removes.

Each line prints AUC and AUC as a fraction of the oracle's; the ratio to the first line is the
"baseline measured in the same run".

    .venv/bin/python benchmarks/engagement_ceiling.py [--scale default] [--seed 7]
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
from sklearn.metrics import roc_auc_score
from xgboost import XGBClassifier

from roi_assets.engagement.features import CATEGORIES, HEADLINE_TARGET, NUMERIC_FEATURES, TARGETS
from roi_assets.engagement.model import predict_proba, train_engagement_model
from roi_assets.evaluation.windows import time_ordered_split

EVALUATION_FRACTION = 0.2
TRUE_PROBABILITY = {"opened_within_7d": "p_open", "clicked_within_7d": "p_click"}
ONE_POINT = {
    "classifier__n_estimators": [300],
    "classifier__max_depth": [4],
    "classifier__learning_rate": [0.05],
}


def _with_truth_and_logins(warehouse: Path, features: pl.DataFrame) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        truth = con.sql("select send_id, p_open, p_click from truth.email_send_probabilities").pl()
        traits = con.sql("select client_id, propensity, chronotype from truth.client_traits").pl()
        logins = con.sql(
            """
            with login_days as (
                select distinct client_id, activity_date from staging.stg_user_events
                where event_type = 'login'
            )
            select f.send_id,
                least(coalesce(date_diff('day', l.activity_date, cast(f.sent_at as date)), 60), 60)
                    as days_since_last_login
            from features.feat_email_engagement as f
            asof left join login_days as l
                on l.client_id = f.client_id and l.activity_date < cast(f.sent_at as date)
            """
        )
        extra = truth.join(logins.pl(), on="send_id")
    return (
        features.join(extra, on="send_id")
        .join(traits, on="client_id")
        .with_columns(pl.col("chronotype").cast(pl.Utf8))
    )


def _design(frame: pl.DataFrame, numeric: list[str], categorical: list[str]) -> np.ndarray:
    encoded = [frame.select(pl.col(c).cast(pl.Float64) for c in numeric)]
    for column in categorical:
        values = sorted(frame[column].unique().to_list())
        encoded.append(
            frame.select(
                (pl.col(column) == v).cast(pl.Float64).alias(f"{column}={v}") for v in values
            )
        )
    return pl.concat(encoded, how="horizontal").to_numpy()


def _plain_xgboost_auc(
    training: pl.DataFrame, evaluation: pl.DataFrame, target: str, numeric, categorical
) -> float:
    both = pl.concat([training, evaluation])
    design = _design(both, list(numeric), list(categorical))
    model = XGBClassifier(
        n_estimators=300, max_depth=4, learning_rate=0.05, tree_method="hist", n_jobs=2
    )
    model.fit(design[: len(training)], training[target].to_numpy())
    return roc_auc_score(evaluation[target], model.predict_proba(design[len(training) :])[:, 1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="default", choices=["tiny", "default", "large"])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(machine_description())
    print(f"scale={args.scale} seed={args.seed} load average at start={load_average()}")
    data_dir = Path(tempfile.mkdtemp(prefix="roi_engagement_ceiling_"))
    try:
        warehouse = build_feature_warehouse(args.scale, args.seed, data_dir)
        features = read_feature_table(warehouse, "feat_email_engagement")
        rows = _with_truth_and_logins(warehouse, features.filter(pl.col("label_complete")))
        training, evaluation = time_ordered_split(rows, "sent_at", EVALUATION_FRACTION)
        print(f"{len(training):,} training and {len(evaluation):,} evaluation sends")
        categorical = list(CATEGORIES)
        for target in TARGETS:
            oracle = roc_auc_score(evaluation[target], evaluation[TRUE_PROBABILITY[target]])
            product = train_engagement_model(training, target, param_grid=ONE_POINT, n_jobs=2)
            lines = {
                "product pipeline (k=30)": roc_auc_score(
                    evaluation[target], predict_proba(product, evaluation)
                ),
                "xgboost, all features": _plain_xgboost_auc(
                    training, evaluation, target, NUMERIC_FEATURES, categorical
                ),
                "+ days since last login": _plain_xgboost_auc(
                    training,
                    evaluation,
                    target,
                    [*NUMERIC_FEATURES, "days_since_last_login"],
                    categorical,
                ),
                "+ true propensity, chronotype": _plain_xgboost_auc(
                    training,
                    evaluation,
                    target,
                    [*NUMERIC_FEATURES, "days_since_last_login", "propensity"],
                    [*categorical, "chronotype"],
                ),
            }
            first = next(iter(lines.values()))
            print(f"{target}: oracle AUC {oracle:.4f}")
            for name, auc in lines.items():
                print(
                    f"  {name:32s} AUC {auc:.4f} = {auc / oracle:6.1%} of the oracle "
                    f"(ratio to the product pipeline {auc / first:.3f})"
                )
            if target == HEADLINE_TARGET:
                print()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"load average at end={load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
