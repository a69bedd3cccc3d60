"""Churn pictures for the asset pages: how many clients each risk tier holds, per window."""

from __future__ import annotations

import io

import numpy as np
import polars as pl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from roi_assets.churn.tiers import RISK_TIERS

TIER_COLOURS = ("#7fb77e", "#f2c14e", "#f08a4b", "#d1495b")


def tier_distribution_png(distribution: pl.DataFrame) -> bytes:
    """Grouped bars: clients per tier (low → critical), one group per prediction window, from
    `scoring.tier_distribution`'s frame."""
    windows = distribution["window_days"].unique().sort().to_list()
    figure = Figure(figsize=(6.4, 3.2))
    axes = figure.add_subplot()
    width = 0.8 / len(RISK_TIERS)
    positions = np.arange(len(windows))
    for index, (tier, colour) in enumerate(zip(RISK_TIERS, TIER_COLOURS, strict=True)):
        counts = [
            int(
                distribution.filter((pl.col("window_days") == w) & (pl.col("tier") == tier))[
                    "clients"
                ].sum()
            )
            for w in windows
        ]
        axes.bar(positions + index * width, counts, width, label=tier, color=colour)
    axes.set_xticks(positions + 0.4 - width / 2, [f"{w} days" for w in windows])
    axes.set_ylabel("clients")
    axes.set_title("clients per churn risk tier")
    axes.legend(fontsize="small")
    figure.tight_layout()
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
