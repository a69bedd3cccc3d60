"""Why a tree model scores what it scores: SHAP (global and per client) and LIME, no Dagster.

Every explanation is of the tree ensemble inside a served model, on the matrix that ensemble reads:
- engagement (`FixedThresholdClassifier` → calibration → `Pipeline`): the XGBoost step on the
  encoded, selected features, named through the pipeline's `get_feature_names_out` (without the
  transformer prefix, so `geographic_region_west` rather than `cat__geographic_region_west`).
  Contributions are in log-odds of the uncalibrated booster; calibration is monotone, so the
  order and sign of the reasons carry over to the served probability;
- churn (`ChurnEnsemble`): the random forest on the 20 tabular features, the member whose inputs
  are named features (as in `churn.reasons`). Contributions are in churn probability.

Public entry points: `explain(model, rows, ...)` for a model object at hand (a notebook, the
serving API), `explain_client(model_name, client_id, con, ...)` for a registered model and a
client of the warehouse, `global_importance` and `summary_plot_png` for the monitoring report.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import matplotlib.pyplot as plt
import mlflow.sklearn
import numpy as np
import pandas as pd
import polars as pl
import shap
from lime.lime_tabular import LimeTabularExplainer
from sklearn.pipeline import Pipeline

from roi_assets.churn.ensemble import ChurnEnsemble
from roi_assets.churn.features import CHURN_FEATURES, tabular_matrix
from roi_assets.engagement.scoring import read_scoring_rows
from roi_assets.resources.table_contracts import create_statement, ensure_table
from roi_assets.resources.tracking import CHAMPION, load_model_by_alias
from roi_assets.resources.warehouse import upsert_rows

SHAP = "shap"
LIME = "lime"
METHODS = (SHAP, LIME)
DEFAULT_TOP_K = 5
NORMAL_95 = 1.96  # half-width of a 95 % normal interval, in standard errors
IMPORTANCE_INTERVAL = ("mean_abs_shap_ci_low", "mean_abs_shap_ci_high")
CONTRIBUTION_COLUMNS: tuple[str, ...] = (
    "client_id",
    "rank",
    "feature",
    "feature_value",
    "contribution",
)
_WRAPPER_DEPTH = 8


@dataclass(frozen=True)
class TreeView:
    """What SHAP and LIME look at: the tree ensemble, the matrix it reads and its column names."""

    tree: Any
    feature_names: tuple[str, ...]
    to_matrix: Callable[[Any], np.ndarray]
    units: str  # of the SHAP contributions: "log-odds" or "probability"

    def matrix(self, rows: Any) -> np.ndarray:
        """The tree's input for product rows (a polars/pandas frame of the model's features)."""
        return np.asarray(self.to_matrix(rows), dtype=np.float64)

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        """(n, classes) probabilities of the tree itself, what LIME perturbs around."""
        return self.tree.predict_proba(matrix)


def _inner_pipeline(model: Any) -> Pipeline:
    """The fitted Pipeline inside threshold, calibration and frozen wrappers."""
    found = model
    for _ in range(_WRAPPER_DEPTH):
        if isinstance(found, Pipeline):
            return found
        if hasattr(found, "calibrated_classifiers_"):
            found = found.calibrated_classifiers_[0].estimator
        elif hasattr(found, "estimator_"):
            found = found.estimator_
        elif hasattr(found, "estimator"):
            found = found.estimator
        else:
            break
    raise TypeError(f"no fitted Pipeline with a tree model inside {type(model).__name__}")


def _pipeline_input(rows: Any, columns: Sequence[str]) -> pd.DataFrame:
    frame = rows.to_pandas() if isinstance(rows, pl.DataFrame) else pd.DataFrame(rows)
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise ValueError(f"missing feature column(s): {', '.join(missing)}")
    selected = frame[list(columns)].copy()
    for name in selected.columns:
        if pd.api.types.is_bool_dtype(selected[name]):
            selected[name] = selected[name].astype(np.float64)
    return selected.reset_index(drop=True)


def _short_name(name: str) -> str:
    """`num__hour_of_day` → `hour_of_day`: ColumnTransformer prefixes say nothing to a reader."""
    return name.split("__", 1)[-1]


def tree_view(model: Any) -> TreeView:
    """The explainable tree inside a product model (see the module docstring for which one)."""
    if isinstance(model, ChurnEnsemble):
        if model.forest_ is None:
            raise RuntimeError("the ensemble is not fitted")
        return TreeView(model.forest_, CHURN_FEATURES, tabular_matrix, "probability")
    if isinstance(model, TreeView):
        return model
    pipeline = _inner_pipeline(model)
    preprocessing = Pipeline(pipeline.steps[:-1]) if len(pipeline.steps) > 1 else None
    tree = pipeline.steps[-1][1]
    columns = list(pipeline.feature_names_in_)
    if preprocessing is None:
        names = columns

        def to_matrix(rows: Any) -> np.ndarray:
            return _pipeline_input(rows, columns).to_numpy(dtype=np.float64)
    else:
        names = [_short_name(str(n)) for n in preprocessing.get_feature_names_out()]

        def to_matrix(rows: Any) -> np.ndarray:
            return preprocessing.transform(_pipeline_input(rows, columns))

    units = "probability" if type(tree).__name__.startswith("RandomForest") else "log-odds"
    return TreeView(tree, tuple(names), to_matrix, units)


def shap_values(view: TreeView, matrix: np.ndarray) -> np.ndarray:
    """SHAP contributions of each feature: (n, features) for a binary model (the positive class),
    (n, features, classes) for a multiclass one."""
    values = np.asarray(shap.TreeExplainer(view.tree).shap_values(matrix))
    # shap gives sklearn binary classifiers one slice per class; XGBoost only the margin.
    if values.ndim == 3 and values.shape[2] == 2:
        return values[..., 1]
    return values


def global_importance(view: TreeView, matrix: np.ndarray) -> tuple[pl.DataFrame, np.ndarray]:
    """Mean |SHAP| per feature over the rows of `matrix` (and over classes for a multiclass
    model), ranked from 1 = most important, with its 95 % interval; also the SHAP values, for
    `summary_plot_png`.

    The rows are a random sample of the clients (or documents), so the importance is a sample
    mean: the interval is the normal one of a mean (± 1.96 standard errors, floored at zero),
    which is what tells two features' ranks apart or not on a sample of a few hundred rows."""
    values = shap_values(view, matrix)
    magnitude = np.abs(values)
    per_row = magnitude.mean(axis=2) if magnitude.ndim == 3 else magnitude
    mean_abs = per_row.mean(axis=0)
    rows = per_row.shape[0]
    half_width = (
        NORMAL_95 * per_row.std(axis=0, ddof=1) / np.sqrt(rows) if rows > 1 else np.nan * mean_abs
    )
    importance = (
        pl.DataFrame(
            {
                "feature": list(view.feature_names),
                "mean_abs_shap": mean_abs,
                "mean_abs_shap_ci_low": np.maximum(mean_abs - half_width, 0.0),
                "mean_abs_shap_ci_high": mean_abs + half_width,
            },
            nan_to_null=True,
        )
        .sort("mean_abs_shap", "feature", descending=[True, False])
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
    )
    return importance.select("feature", "mean_abs_shap", "rank", *IMPORTANCE_INTERVAL), values


def summary_plot_png(
    values: np.ndarray, matrix: np.ndarray, feature_names: Sequence[str], title: str
) -> bytes:
    """shap's beeswarm summary plot (top 15 features) as PNG bytes."""
    plotted = np.abs(values).mean(axis=2) if values.ndim == 3 else values
    shap.summary_plot(
        plotted, matrix, feature_names=list(feature_names), max_display=15, show=False
    )
    figure = plt.gcf()
    figure.suptitle(title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _ranked(
    contributions: np.ndarray,
    matrix: np.ndarray,
    feature_names: Sequence[str],
    ids: Sequence[Any],
    top_k: int,
) -> pl.DataFrame:
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :top_k]
    rows = np.repeat(np.arange(len(order)), order.shape[1])
    columns = order.ravel()
    return pl.DataFrame(
        {
            "client_id": [str(ids[i]) for i in rows],
            "rank": np.tile(np.arange(1, order.shape[1] + 1), len(order)),
            "feature": [feature_names[j] for j in columns],
            "feature_value": matrix[rows, columns],
            "contribution": contributions[rows, columns],
        },
        schema_overrides={"rank": pl.Int64},
    )


def shap_top_contributions(
    view: TreeView, matrix: np.ndarray, ids: Sequence[Any], top_k: int = DEFAULT_TOP_K
) -> pl.DataFrame:
    """Per row, the `top_k` features with the largest |SHAP| and their signed contributions
    (columns: CONTRIBUTION_COLUMNS; rank 1 is the strongest)."""
    values = shap_values(view, matrix)
    if values.ndim != 2:
        raise ValueError("per-client contributions are for binary models")
    return _ranked(values, matrix, view.feature_names, ids, top_k)


def lime_top_contributions(
    view: TreeView,
    matrix: np.ndarray,
    background: np.ndarray,
    ids: Sequence[Any],
    *,
    top_k: int = DEFAULT_TOP_K,
    num_samples: int = 1000,
    seed: int = 0,
) -> pl.DataFrame:
    """LIME's local linear weights for the positive class, `top_k` features per row (same
    columns as `shap_top_contributions`). `background` (rows of training data) sets the scale
    LIME perturbs at; `num_samples` perturbations per row trade time for stability.

    The `top_k` features are those with the highest weights in LIME's local model over every
    feature, then refitted alone, as LIME's 'auto' does beyond six features. For six or fewer
    'auto' runs forward selection, a ridge fit per candidate feature per step: on the default
    world's churn forest (20 clients, top 5) it took 2.7 times as long, chose the same first
    feature for all 20 clients and 4.7 of the same 5 on average, with the same signs."""
    explainer = LimeTabularExplainer(
        background,
        mode="classification",
        feature_names=list(view.feature_names),
        discretize_continuous=True,
        random_state=seed,
        feature_selection="highest_weights",
    )
    weights = np.zeros_like(matrix, dtype=np.float64)
    for row, values in enumerate(matrix):
        found = explainer.explain_instance(
            values, view.probabilities, labels=(1,), num_features=top_k, num_samples=num_samples
        )
        for feature, weight in found.as_map()[1]:
            weights[row, feature] = weight
    return _ranked(weights, matrix, view.feature_names, ids, top_k)


def explain(
    model: Any,
    rows: Any,
    *,
    method: str = SHAP,
    top_k: int = DEFAULT_TOP_K,
    ids: Sequence[Any] | None = None,
    background: Any = None,
    seed: int = 0,
) -> pl.DataFrame:
    """Top-`top_k` signed feature contributions per row of `rows`, strongest first.

    - model: a fitted engagement estimator (as loaded with `mlflow.sklearn.load_model`), a
      `ChurnEnsemble`, or a `TreeView`;
    - rows: a polars/pandas frame holding the model's feature columns (one row per client);
    - method: "shap" (exact tree SHAP) or "lime" (needs `background`, rows of the same shape
      drawn from the training data);
    - ids: a label per row (default: the `client_id` column, else the row position).
    Returns CONTRIBUTION_COLUMNS: client_id, rank, feature, feature_value (as the tree sees it,
    e.g. scaled for engagement), contribution (see the module docstring for units).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    view = tree_view(model)
    matrix = view.matrix(rows)
    if ids is None:
        ids = list(rows["client_id"]) if "client_id" in rows.columns else list(range(len(matrix)))
    if method == SHAP:
        return shap_top_contributions(view, matrix, ids, top_k)
    if background is None:
        raise ValueError("LIME needs background rows from the training data")
    return lime_top_contributions(
        view, matrix, view.matrix(background), ids, top_k=top_k, seed=seed
    )


def load_explainable_model(model_name: str, alias: str = CHAMPION) -> Any:
    """The registered version behind `alias`, as an object `tree_view` understands."""
    if model_name.startswith("roi-engagement-"):
        return load_model_by_alias(model_name, alias, mlflow.sklearn.load_model)
    if model_name.startswith("roi-churn-"):
        return load_model_by_alias(model_name, alias).unwrap_python_model().ensemble
    raise ValueError(f"{model_name} has no tree model to explain per client")


def client_feature_rows(
    con: duckdb.DuckDBPyConnection, model_name: str, client_ids: Sequence[str]
) -> pl.DataFrame:
    """The rows the marts score these clients on: an email sent at the scoring moment for
    engagement (`engagement.scoring`), the latest snapshot for churn."""
    ids = pl.Series("client_id", list(client_ids), dtype=pl.String)
    if model_name.startswith("roi-engagement-"):
        return read_scoring_rows(con, ids)
    if model_name.startswith("roi-churn-"):
        con.register("wanted_clients", ids.to_frame().to_arrow())
        try:
            return con.sql(
                "select * from features.feat_client_churn join wanted_clients using (client_id) "
                "qualify row_number() over (partition by client_id order by snapshot_date desc) = 1"
                " order by client_id"
            ).pl()
        finally:
            con.unregister("wanted_clients")
    raise ValueError(f"{model_name} has no client features to explain")


def background_rows(con: duckdb.DuckDBPyConnection, model_name: str, n: int = 200) -> pl.DataFrame:
    """A reproducible sample of the model's training table, LIME's scale of perturbation."""
    table = (
        "features.feat_email_engagement"
        if model_name.startswith("roi-engagement-")
        else "features.feat_client_churn"
    )
    sample = f"using sample reservoir({int(n)} rows) repeatable (0)"
    return con.sql(f"select * from {table} {sample}").pl()


def explain_client(
    model_name: str,
    client_id: str,
    con: duckdb.DuckDBPyConnection,
    *,
    alias: str = CHAMPION,
    method: str = SHAP,
    top_k: int = DEFAULT_TOP_K,
) -> pl.DataFrame:
    """Top-`top_k` contributions for one client's current score by a registered model.

    `model_name` is a registered name (roi-engagement-open/-click, roi-churn-30d/-60d/-90d),
    `alias` the version to explain (champion by default), `con` a connection to the warehouse.
    Raises ValueError when the client has no feature rows. Returns `explain`'s columns.
    """
    rows = client_feature_rows(con, model_name, [client_id])
    if rows.is_empty():
        raise ValueError(f"client {client_id} has no features for {model_name}")
    background = background_rows(con, model_name) if method == LIME else None
    model = load_explainable_model(model_name, alias)
    return explain(model, rows, method=method, top_k=top_k, background=background)


FEATURE_IMPORTANCE_TABLE = "monitoring.feature_importance"
CLIENT_EXPLANATIONS_TABLE = "monitoring.client_explanations"
_CREATE_FEATURE_IMPORTANCE = create_statement(FEATURE_IMPORTANCE_TABLE)
_CREATE_CLIENT_EXPLANATIONS = create_statement(CLIENT_EXPLANATIONS_TABLE)


def _upsert(con: duckdb.DuckDBPyConnection, table: str, create: str, rows: pl.DataFrame) -> int:
    upsert_rows(con, table, create, rows)
    return rows.height


def write_feature_importance(
    con: duckdb.DuckDBPyConnection,
    importance: pl.DataFrame,
    *,
    model_name: str,
    model_version: str,
    computed_at: dt.datetime,
) -> int:
    """Upsert `global_importance` rows, keyed by (model_name, model_version, feature)."""
    rows = importance.select(
        pl.lit(model_name).alias("model_name"),
        pl.lit(str(model_version)).alias("model_version"),
        "feature",
        "mean_abs_shap",
        "rank",
        pl.lit(computed_at).cast(pl.Datetime("us")).alias("computed_at"),
        *IMPORTANCE_INTERVAL,
    )
    ensure_table(con, FEATURE_IMPORTANCE_TABLE)
    return _upsert(con, FEATURE_IMPORTANCE_TABLE, _CREATE_FEATURE_IMPORTANCE, rows)


def write_client_explanations(
    con: duckdb.DuckDBPyConnection,
    contributions: pl.DataFrame,
    *,
    model_name: str,
    model_version: str,
    method: str,
    explained_at: dt.datetime,
) -> int:
    """Upsert per-client contributions (`explain`'s columns), keyed by (model_name,
    model_version, method, client_id, rank)."""
    rows = contributions.select(
        pl.lit(model_name).alias("model_name"),
        pl.lit(str(model_version)).alias("model_version"),
        pl.lit(method).alias("method"),
        *CONTRIBUTION_COLUMNS,
        pl.lit(explained_at).cast(pl.Datetime("us")).alias("explained_at"),
    )
    return _upsert(con, CLIENT_EXPLANATIONS_TABLE, _CREATE_CLIENT_EXPLANATIONS, rows)
