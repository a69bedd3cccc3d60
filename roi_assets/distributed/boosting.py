"""Gradient boosting over partitioned data with the libraries' own Dask trainers.

`xgboost.dask` and `lightgbm.DaskLGBMClassifier` train one model across the workers (each holds
its partitions; histograms are all-reduced), for data no single worker could hold. What comes
back is an ordinary `XGBClassifier` / `LGBMClassifier`, so MLflow logging, SHAP and the serving
API treat it exactly like a model trained on one machine.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lightgbm as lgb
from xgboost import XGBClassifier


def _on_workers(client: Any, frame: Any, features: Sequence[str], label: str) -> tuple[Any, Any]:
    """The feature and label columns of a dask DataFrame, held in the workers' memory with one
    partition layout: read separately, a column selection can change how partitions combine,
    and the trainers pair features and labels partition by partition."""
    held = client.persist(frame[[*features, label]])
    return held[list(features)], held[label]


def fit_xgboost(
    client: Any, frame: Any, features: Sequence[str], label: str, params: Mapping[str, Any]
) -> XGBClassifier:
    """An XGBClassifier fitted with `xgboost.dask` on a dask DataFrame's partitions, returned as
    a single-machine estimator with the same trees."""
    from xgboost import dask as dxgb

    with client.as_current():
        x, y = _on_workers(client, frame, features, label)
        distributed = dxgb.DaskXGBClassifier(**params)
        distributed.client = client
        distributed.fit(x, y, verbose=False)
    with tempfile.TemporaryDirectory() as folder:
        # the sklearn wrapper's own file keeps its attributes (classes, objective) with the trees
        path = Path(folder) / "model.ubj"
        distributed.save_model(path)
        local = XGBClassifier(**params)
        local.load_model(path)
    return local


def fit_lightgbm(
    client: Any, frame: Any, features: Sequence[str], label: str, params: Mapping[str, Any]
) -> lgb.LGBMClassifier:
    """An LGBMClassifier fitted by LightGBM's Dask estimator (one LightGBM worker per Dask
    worker holding data), returned as its single-machine equivalent."""
    with client.as_current():
        x, y = _on_workers(client, frame, features, label)
        distributed = lgb.DaskLGBMClassifier(client=client, **params)
        distributed.fit(x, y)
    return distributed.to_local()
