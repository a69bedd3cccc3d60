"""Fairness as a picture: the selection rate of each protected group, served against mitigated."""

from __future__ import annotations

import io

import polars as pl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

PLOTTED_METRIC = "selection_rate"


def selection_rate_by_group_png(report: pl.DataFrame) -> bytes:
    """One panel per protected attribute: bars per group and variant (model, mitigated, ...)
    of the selection rate, from a fairness report's rows (attribute, metric, group, variant,
    value)."""
    rows = report.filter((pl.col("metric") == PLOTTED_METRIC) & pl.col("group").is_not_null())
    attributes = rows["attribute"].unique().sort().to_list()
    figure = Figure(figsize=(3.2 * max(len(attributes), 1), 3.0))
    for position, attribute in enumerate(attributes, start=1):
        axes = figure.add_subplot(1, len(attributes), position)
        part = rows.filter(pl.col("attribute") == attribute)
        groups = part["group"].unique().sort().to_list()
        variants = part["variant"].unique().sort().to_list()
        width = 0.8 / max(len(variants), 1)
        for index, variant in enumerate(variants):
            values = [
                float(
                    part.filter((pl.col("group") == g) & (pl.col("variant") == variant))[
                        "value"
                    ].mean()
                    or 0.0
                )
                for g in groups
            ]
            axes.bar([i + index * width for i in range(len(groups))], values, width, label=variant)
        axes.set_xticks([i + 0.4 - width / 2 for i in range(len(groups))], groups)
        axes.tick_params(axis="x", labelsize="x-small", rotation=30)
        axes.set_title(attribute, fontsize="small")
        if position == 1:
            axes.set_ylabel("selection rate")
            axes.legend(fontsize="x-small")
    figure.tight_layout()
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
