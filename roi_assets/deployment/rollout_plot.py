"""The rollout history as a picture: each model's challenger share, day by day."""

from __future__ import annotations

import io

import polars as pl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def challenger_share_plot_png(transitions: pl.DataFrame) -> bytes:
    """A step plot of `challenger_share` over `as_of`, one line per model and challenger version
    (columns model_name, challenger_version, as_of, challenger_share)."""
    figure = Figure(figsize=(7, 3.2))
    axes = figure.add_subplot()
    for (model_name, version), rows in transitions.sort("as_of").group_by(
        ["model_name", "challenger_version"], maintain_order=True
    ):
        axes.step(
            rows["as_of"].to_list(),
            rows["challenger_share"].to_list(),
            where="post",
            marker="o",
            label=f"{model_name} v{version}",
        )
    axes.set_ylim(-0.05, 1.05)
    axes.set_ylabel("challenger share")
    axes.set_title("Deployments: challenger share by day")
    if transitions.height:
        axes.legend(fontsize="small")
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
