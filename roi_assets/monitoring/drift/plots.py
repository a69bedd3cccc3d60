"""Drift as a picture: each feature's drift score against the threshold, per model."""

from __future__ import annotations

import io

import polars as pl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def drift_scores_png(drift: pl.DataFrame, top: int = 20) -> bytes:
    """Horizontal bars of the `top` highest drift scores per feature (over the models that read
    it), drifted ones in red, with the threshold as a line. `drift` has monitoring.feature_drift's
    columns feature, score, threshold, drifted."""
    worst = (
        drift.group_by("feature")
        .agg(pl.col("score").max(), pl.col("threshold").min(), pl.col("drifted").any())
        .sort("score", descending=True)
        .head(top)
        .reverse()
    )
    figure = Figure(figsize=(6.4, 0.25 * max(worst.height, 4) + 1.0))
    axes = figure.add_subplot()
    colours = ["#d1495b" if d else "#5b8db8" for d in worst["drifted"].to_list()]
    axes.barh(worst["feature"].to_list(), worst["score"].to_list(), color=colours)
    if worst.height:
        axes.axvline(float(worst["threshold"].min()), color="black", linestyle="--", linewidth=1)
    axes.set_xlabel("drift score (red: above its threshold, dashed)")
    axes.set_title("feature drift, training window against the latest 28 days")
    axes.tick_params(axis="y", labelsize="x-small")
    figure.tight_layout()
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
