"""Engagement training time: the specification's full grid on the default world, on this machine.

Simulates the default world in a temporary folder, builds the features, and times
`train_engagement_model` with the specification's 27-point grid and 5 time-series folds for the
three targets, as `make run` and the weekly search do (grid fits side by side, one XGBoost thread
each, the points that differ only in their boosting rounds sharing one fit). The baseline,
measured in the same run on the headline target's fitting rows, is scikit-learn's plain
`GridSearchCV` over the same grid (every point its own fit) against the product's search
(`engagement.search.search_shared_rounds`); the run also prints the largest difference between
their cross-validated AUCs, which should be zero.

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
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from roi_assets.engagement.features import HEADLINE_TARGET, TARGETS
from roi_assets.engagement.model import (
    SPECIFICATION_PARAM_GRID,
    TrainedEngagementModel,
    build_engagement_pipeline,
    class_balance_weight,
    train_engagement_model,
    training_slices,
)
from roi_assets.engagement.search import search_shared_rounds

N_SPLITS = 5


def _train(features, target: str, n_jobs: int) -> tuple[float, TrainedEngagementModel]:
    start = time.perf_counter()
    trained = train_engagement_model(features, target, n_jobs=n_jobs)
    return time.perf_counter() - start, trained


def _compare_searches(features, cores: int) -> None:
    """Plain GridSearchCV against the shared-rounds search on the headline target."""
    grid = SPECIFICATION_PARAM_GRID
    slices = training_slices(features, HEADLINE_TARGET)
    pipeline = build_engagement_pipeline(class_balance_weight(slices.fit_labels))
    start = time.perf_counter()
    plain = GridSearchCV(
        pipeline,
        grid,
        cv=TimeSeriesSplit(n_splits=N_SPLITS),
        scoring="roc_auc",
        refit=False,
        n_jobs=cores,
    ).fit(slices.fit_features, slices.fit_labels)
    plain_seconds = time.perf_counter() - start
    start = time.perf_counter()
    shared = search_shared_rounds(
        pipeline,
        grid,
        slices.fit_features,
        slices.fit_labels,
        n_splits=N_SPLITS,
        n_jobs=cores,
    )
    shared_seconds = time.perf_counter() - start
    by_point = {
        tuple(sorted(params.items())): score
        for params, score in zip(
            plain.cv_results_["params"], plain.cv_results_["mean_test_score"], strict=True
        )
    }
    gap = max(
        abs(row["mean_cv_auc"] - by_point[tuple(sorted((k, row[k]) for k in grid))])
        for row in shared.cv_results.iter_rows(named=True)
    )
    print(
        f"search only, {HEADLINE_TARGET}: plain GridSearchCV {plain_seconds:.1f} s, shared rounds "
        f"{shared_seconds:.1f} s; ratio plain / shared = {plain_seconds / shared_seconds:.2f}; "
        f"largest cv AUC difference {gap:.1e}"
    )


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
                f"{target}: {seconds:.1f} s for {len(trained.cv_results)} grid points x "
                f"{N_SPLITS} folds on {trained.n_fit_rows:,} rows; best {trained.best_params}, "
                f"cv AUC {trained.best_cv_auc:.3f}"
            )
        print(f"all targets: {sum(product.values()):.1f} s ({cores} grid fits side by side)")
        if not args.skip_baseline:
            _compare_searches(features, cores)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"load average at end={load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
