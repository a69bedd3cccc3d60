"""Engagement training time: the specification's full grid on the default world, on this machine.

Simulates the default world in a temporary folder, builds the features, and times
`train_engagement_model` with the specification's 27-point grid and 5 time-series folds for both
targets, as `make run` and the daily schedule do (grid fits side by side, one XGBoost thread each).
The baseline, measured in the same run on the headline target, is the same search run one grid fit
at a time with XGBoost using every core: the ratio says what running fits side by side buys.

    .venv/bin/python benchmarks/engagement_training.py [--scale default] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from feature_warehouse import build_feature_warehouse, read_feature_table
from machine import load_average, machine_description

from roi_assets.engagement.features import TARGETS
from roi_assets.engagement.model import TrainedEngagementModel, train_engagement_model


def _train(
    features, target: str, n_jobs: int, xgboost_threads: int = 1
) -> tuple[float, TrainedEngagementModel]:
    start = time.perf_counter()
    trained = train_engagement_model(
        features, target, n_jobs=n_jobs, xgboost_threads=xgboost_threads
    )
    return time.perf_counter() - start, trained


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="default", choices=["tiny", "default", "large"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    print(machine_description())
    print(f"scale={args.scale} seed={args.seed} load average at start={load_average()}")
    data_dir = Path(tempfile.mkdtemp(prefix="roi_engagement_training_"))
    try:
        warehouse = build_feature_warehouse(args.scale, args.seed, data_dir)
        features = read_feature_table(warehouse, "feat_email_engagement")
        print(f"{len(features):,} sends in features.feat_email_engagement")
        product: dict[str, float] = {}
        for target in TARGETS:
            seconds, trained = _train(features, target, n_jobs=cores)
            product[target] = seconds
            print(
                f"{target}: {seconds:.1f} s for {len(trained.cv_results)} grid points x 5 folds "
                f"on {trained.n_fit_rows:,} rows; best {trained.best_params}, "
                f"cv AUC {trained.best_cv_auc:.3f}"
            )
        print(f"both targets: {sum(product.values()):.1f} s ({cores} grid fits side by side)")
        if not args.skip_baseline:
            target = TARGETS[0]
            baseline, _ = _train(features, target, n_jobs=1, xgboost_threads=cores)
            print(
                f"baseline {target}, one fit at a time with {cores} XGBoost threads: "
                f"{baseline:.1f} s; ratio baseline / product = {baseline / product[target]:.2f}"
            )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"load average at end={load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
