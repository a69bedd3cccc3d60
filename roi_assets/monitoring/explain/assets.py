"""Explanation assets: SHAP importance and per-client contributions of the champions' tree models,
LIME for a sample of clients, and churn counterfactuals for high-risk clients.

Each asset runs after its domain's mart, that is after the validation gate let a version through.
Models are read from the MLflow registry by the `champion` alias, the version that scored the mart;
a model whose gate has not let any version through yet (no champion) is explained through its
`candidate`, and the metadata names the alias, so every registered model has its explanation.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dagster as dg
import duckdb
import numpy as np
import polars as pl
from dagster_duckdb import DuckDBResource

from roi_assets import settings
from roi_assets.catalog import (
    CHURN_FEATURES,
    CHURN_MODELS,
    CHURN_RISK,
    CHURN_WINDOWS_DAYS,
    CLIENT_DAILY,
    DOCUMENT_CLASSIFIER_MODEL,
    EMAIL_FEATURES,
    ENGAGEMENT_MODELS,
    ENGAGEMENT_SCORES,
    LABELLED_DOCUMENTS,
)
from roi_assets.churn.daily_reads import sequences_for
from roi_assets.churn.scoring import latest_snapshot_rows
from roi_assets.engagement.features import HEADLINE_TARGET, labelled_history
from roi_assets.engagement.scoring import read_scoring_rows
from roi_assets.evaluation.reliability import png_markdown
from roi_assets.monitoring.explain.counterfactual import (
    Target,
    counterfactual_row,
    counterfactual_targets,
    stack_counterfactuals,
    value_grid,
    write_counterfactuals,
)
from roi_assets.monitoring.explain.document_explain import (
    MAX_DOCUMENTS,
    PLOTTED_FEATURES,
    corpus_importance,
    importance_bar_png,
)
from roi_assets.monitoring.explain.explanations import (
    LIME,
    SHAP,
    TreeView,
    global_importance,
    lime_top_contributions,
    load_explainable_model,
    shap_top_contributions,
    summary_plot_png,
    tree_view,
    write_client_explanations,
    write_feature_importance,
)
from roi_assets.monitoring.reports import GROUP, utc_now
from roi_assets.monitoring.samples import at_most
from roi_assets.resources.registry import ModelRegistry
from roi_assets.resources.tracking import CHAMPION, champion_or_candidate
from roi_assets.resources.warehouse import WAREHOUSE_POOL

DOCUMENT_CLASSIFIER_PROMOTION = dg.AssetKey(["document_classifier_promotion"])


class ExplanationConfig(dg.Config):
    """How much to explain: SHAP importance on `background_rows` sampled rows, SHAP contributions
    (`top_k` per client) for up to `max_clients` scored clients, LIME for `lime_clients` of them
    with `lime_samples` perturbations each."""

    background_rows: int = 200
    max_clients: int = 5_000
    top_k: int = 5
    lime_clients: int = 20
    lime_samples: int = 1_000
    seed: int = 0


class CounterfactualConfig(dg.Config):
    """At most `max_clients` clients per window, the riskiest first."""

    max_clients: int = 20


@dataclass(frozen=True)
class ModelExplanation:
    """What one model version's explanation writes, and what its materialisation shows."""

    model_name: str
    version: str
    importance: pl.DataFrame
    shap_rows: pl.DataFrame
    lime_rows: pl.DataFrame
    metadata: dict[str, object]

    def write(self, con: duckdb.DuckDBPyConnection, at: dt.datetime) -> int:
        named = {"model_name": self.model_name, "model_version": self.version}
        written = write_feature_importance(con, self.importance, computed_at=at, **named)
        for method, rows in ((SHAP, self.shap_rows), (LIME, self.lime_rows)):
            written += write_client_explanations(con, rows, method=method, explained_at=at, **named)
        return written


def explain_version(
    model_name: str,
    alias: str,
    version: str,
    view: TreeView,
    background: pl.DataFrame,
    clients: pl.DataFrame,
    config: ExplanationConfig,
) -> ModelExplanation:
    """Global importance with its plot (saved under the artifacts folder), SHAP contributions for
    `clients` and LIME for a sample of them."""
    background_matrix = view.matrix(background)
    importance, values = global_importance(view, background_matrix)
    title = f"{model_name} v{version}: SHAP on {len(background_matrix)} rows ({view.units})"
    png = summary_plot_png(values, background_matrix, view.feature_names, title)
    folder = settings.artifacts_dir() / "monitoring"
    folder.mkdir(parents=True, exist_ok=True)
    plot_path = folder / f"shap_summary_{model_name}_v{version}.png"
    plot_path.write_bytes(png)
    ids = clients["client_id"].to_list()
    shap_rows = shap_top_contributions(view, view.matrix(clients), ids, config.top_k)
    sampled = at_most(clients, config.lime_clients, config.seed)
    lime_rows = lime_top_contributions(
        view,
        view.matrix(sampled),
        background_matrix,
        sampled["client_id"].to_list(),
        top_k=config.top_k,
        num_samples=config.lime_samples,
        seed=config.seed,
    )
    top = importance.head(10).to_pandas().to_markdown(index=False, floatfmt=".4f")
    metadata: dict[str, Any] = {
        f"{model_name}_version": f"{version} ({alias})",
        f"{model_name}_importance": dg.MetadataValue.md(
            top + "\n\n" + png_markdown(png, f"SHAP summary of {model_name}")
        ),
        f"{model_name}_plot": dg.MetadataValue.path(str(plot_path)),
        f"{model_name}_clients_explained": len(ids),
        f"{model_name}_lime_clients": sampled.height,
    }
    return ModelExplanation(model_name, version, importance, shap_rows, lime_rows, metadata)


def _explain_models(
    model_names: tuple[str, ...],
    rows_for: Callable[[str], tuple[pl.DataFrame, pl.DataFrame]],
    config: ExplanationConfig,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> dg.MaterializeResult:
    """Explain each model's champion (its candidate while it has none); `rows_for(model_name)`
    gives (background, clients). A candidate scores no one, so its per-client SHAP covers the
    LIME sample only, not every scored client: its global importance is what tells why it was
    held back, and exact SHAP of every client costs about 20 s per churn forest."""
    metadata: dict[str, Any] = {}
    explained = []
    for model_name in model_names:
        found = champion_or_candidate(model_name, registry.client())
        if found is None:
            metadata[f"{model_name}_skipped"] = "nothing registered yet: nothing to explain"
            continue
        alias, version = found
        view = tree_view(load_explainable_model(model_name, alias))
        background, clients = rows_for(model_name)
        if alias != CHAMPION:
            clients = at_most(clients, config.lime_clients, config.seed)
        explained.append(
            explain_version(model_name, alias, version, view, background, clients, config)
        )
    at = utc_now()
    with duckdb.get_connection() as con:
        written = sum(explanation.write(con, at) for explanation in explained)
    for explanation in explained:
        metadata |= explanation.metadata
    return dg.MaterializeResult(metadata={"rows_written": written, **metadata})


@dg.asset(
    group_name=GROUP,
    kinds={"shap", "python", "duckdb"},
    ins={
        "scores": dg.AssetIn(key=ENGAGEMENT_SCORES),
        "features": dg.AssetIn(key=EMAIL_FEATURES),
    },
    pool=WAREHOUSE_POOL,
)
def engagement_explanations(
    config: ExplanationConfig,
    scores: pl.DataFrame,
    features: pl.DataFrame,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> dg.MaterializeResult:
    """Why the engagement champions (roi-engagement-open / -click; a model without one: its
    candidate) score what they score: mean
    |SHAP| per feature of the XGBoost step (encoded, selected features, log-odds) with a summary
    plot, to monitoring.feature_importance; the top contributions of every scored client for an
    email sent at the scoring moment (SHAP) and of a sample of clients (LIME), to
    monitoring.client_explanations.
    """
    history = labelled_history(features, HEADLINE_TARGET)
    background = at_most(history, config.background_rows, config.seed)
    with duckdb.get_connection() as con:
        clients = read_scoring_rows(con, scores["client_id"]).head(config.max_clients)
    return _explain_models(
        tuple(ENGAGEMENT_MODELS.values()),
        lambda _: (background, clients),
        config,
        duckdb,
        registry,
    )


@dg.asset(
    group_name=GROUP,
    kinds={"shap", "python", "duckdb"},
    ins={"risk": dg.AssetIn(key=CHURN_RISK), "churn": dg.AssetIn(key=CHURN_FEATURES)},
    pool=WAREHOUSE_POOL,
)
def churn_explanations(
    config: ExplanationConfig,
    risk: pl.DataFrame,
    churn: pl.DataFrame,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> dg.MaterializeResult:
    """Why the churn champions (roi-churn-30d / -60d / -90d; a window without one: its candidate)
    rate a client's risk: mean |SHAP| per tabular feature of the random forest (churn
    probability) with a summary plot, to monitoring.feature_importance; the top contributions
    (SHAP) of the window's clients someone is asked to act on (medium tier and above, or on the
    watch list) and of a sample of them (LIME), to monitoring.client_explanations. Exact SHAP of
    300 trees of depth 10 costs about 15 ms a client, 25 s per window for every active client at
    the default scale: the clients nobody acts on are explained on request (`explain_client`).
    The LSTM member reads daily sequences and is not attributed per feature."""
    background = at_most(churn, config.background_rows, config.seed)
    every_client = latest_snapshot_rows(churn, risk["client_id"].unique())
    acted_on = (pl.col("tier") != "low") | pl.col("on_watch_list")

    def rows_for(model_name: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        window = CHURN_WINDOWS_DAYS[CHURN_MODELS.index(model_name)]
        listed = risk.filter((pl.col("window_days") == window) & acted_on)["client_id"]
        # A window without a champion has no mart rows: its candidate explains a sample of all.
        clients = every_client.filter(pl.col("client_id").is_in(listed.implode()))
        return background, (clients if listed.len() else every_client).head(config.max_clients)

    return _explain_models(CHURN_MODELS, rows_for, config, duckdb, registry)


@dg.asset(
    key=["monitoring", "document_explanations"],
    group_name=GROUP,
    kinds={"shap", "lightgbm", "duckdb"},
    ins={"corpus": dg.AssetIn(key=LABELLED_DOCUMENTS)},
    deps=[DOCUMENT_CLASSIFIER_PROMOTION],
    pool=WAREHOUSE_POOL,
)
def document_explanations(
    corpus: pl.DataFrame, duckdb: DuckDBResource, registry: ModelRegistry
) -> dg.MaterializeResult:
    """Which words and page-image scores the document classifier's champion (its candidate while
    it has none) leans on: mean |SHAP|
    of its LightGBM (over the nine types) on at most 200 labelled archive documents, the top 30
    to monitoring.feature_importance, so a shift to scanning noise or boilerplate shows up."""
    found = champion_or_candidate(DOCUMENT_CLASSIFIER_MODEL, registry.client())
    if found is None:
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": 0,
                "skipped": f"{DOCUMENT_CLASSIFIER_MODEL} is not registered",
            }
        )
    alias, version = found
    classifier = registry.load(DOCUMENT_CLASSIFIER_MODEL, alias).unwrap_python_model().classifier
    importance = corpus_importance(classifier, corpus)
    documents = min(corpus.height, MAX_DOCUMENTS)
    title = f"{DOCUMENT_CLASSIFIER_MODEL} v{version}: mean |SHAP| on {documents} documents"
    png = importance_bar_png(importance, title)
    folder = settings.artifacts_dir() / "monitoring"
    folder.mkdir(parents=True, exist_ok=True)
    plot_path = folder / f"shap_importance_{DOCUMENT_CLASSIFIER_MODEL}_v{version}.png"
    plot_path.write_bytes(png)
    with duckdb.get_connection() as con:
        written = write_feature_importance(
            con,
            importance,
            model_name=DOCUMENT_CLASSIFIER_MODEL,
            model_version=version,
            computed_at=utc_now(),
        )
    top = importance.head(PLOTTED_FEATURES).to_pandas().to_markdown(index=False, floatfmt=".4f")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": written,
            "version": f"{version} ({alias})",
            "documents_explained": documents,
            "importance": dg.MetadataValue.md(
                top + "\n\n" + png_markdown(png, f"SHAP importance of {DOCUMENT_CLASSIFIER_MODEL}")
            ),
            "plot": dg.MetadataValue.path(str(plot_path)),
        }
    )


@dg.asset(
    group_name=GROUP,
    kinds={"python", "duckdb"},
    ins={"risk": dg.AssetIn(key=CHURN_RISK), "churn": dg.AssetIn(key=CHURN_FEATURES)},
    deps=[CLIENT_DAILY],
    pool=WAREHOUSE_POOL,
)
def churn_counterfactuals(
    config: CounterfactualConfig,
    risk: pl.DataFrame,
    churn: pl.DataFrame,
    duckdb: DuckDBResource,
    registry: ModelRegistry,
) -> dg.MaterializeResult:
    """For the clients of marts.churn_risk someone is asked to act on, the riskiest first: the
    smallest realistic change in actionable features (logins, document use, support resolution,
    adoption; never the contract date, market signals or who the client is) that brings the
    champion's risk below the high tier (high- and critical-risk clients) or off the watch list
    (listed clients below the high tier), in plain words, to monitoring.churn_counterfactuals."""
    grids = value_grid(churn)
    metadata: dict[str, Any] = {}
    frames = []
    for window, model_name in zip(CHURN_WINDOWS_DAYS, CHURN_MODELS, strict=True):
        version = registry.version(model_name, CHAMPION)
        targets = counterfactual_targets(
            risk.filter(pl.col("window_days") == window), config.max_clients
        )
        if version is None or not targets:
            metadata[f"{model_name}_skipped"] = (
                "no champion yet" if version is None else "no client at high risk or listed"
            )
            continue
        frame = _window_counterfactuals(model_name, version, targets, churn, grids, duckdb)
        frames.append(frame)
        metadata[f"{model_name}_clients"] = frame.height
        metadata[f"{model_name}_reached_target"] = int(frame["reached_target"].sum())
    written = 0
    if frames:
        with duckdb.get_connection() as con:
            written = sum(write_counterfactuals(con, frame) for frame in frames)
        preview = pl.concat(frames).head(5).select("client_id", "model_name", "explanation")
        metadata["preview"] = dg.MetadataValue.md(preview.to_pandas().to_markdown(index=False))
    return dg.MaterializeResult(metadata={"dagster/row_count": written, **metadata})


def _window_counterfactuals(
    model_name: str,
    version: str,
    targets: dict[str, Target],
    churn: pl.DataFrame,
    grids: dict[str, np.ndarray],
    duckdb: DuckDBResource,
) -> pl.DataFrame:
    """One window champion's counterfactuals for its target clients, one row per client."""
    ensemble = load_explainable_model(model_name, CHAMPION)
    rows = latest_snapshot_rows(churn, pl.Series(list(targets)))
    with duckdb.get_connection() as con:
        sequences = sequences_for(con, rows)
    found = stack_counterfactuals(
        ensemble, rows, sequences, grids, targets=[targets[client] for client in rows["client_id"]]
    )
    return pl.DataFrame([counterfactual_row(c) for c in found]).with_columns(
        rows["client_id"],
        rows["snapshot_date"],
        pl.lit(model_name).alias("model_name"),
        pl.lit(version).alias("model_version"),
        pl.lit(utc_now()).alias("computed_at"),
    )
