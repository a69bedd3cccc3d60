"""Business impact as a picture: each policy's expected open and click rate, day by day."""

from __future__ import annotations

import io

import polars as pl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def impact_plot_png(impact: pl.DataFrame) -> bytes:
    """Two panels (open rate, click rate) with one line per policy over `impact_date`."""
    figure = Figure(figsize=(9, 3.4))
    for position, metric in enumerate(("open_rate", "click_rate"), start=1):
        axes = figure.add_subplot(1, 2, position)
        rows = impact.filter(pl.col("metric") == metric).sort("impact_date")
        for (policy,), line in rows.group_by(["policy"], maintain_order=True):
            axes.plot(
                line["impact_date"].to_list(),
                line["value"].to_list(),
                label=policy,
                linewidth=2.4 if policy == "product" else 1.0,
            )
        axes.set_title(f"expected {metric.replace('_', ' ')} per send")
        if rows.height:
            axes.legend(fontsize="x-small")
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
