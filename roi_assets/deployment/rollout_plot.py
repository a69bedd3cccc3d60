"""The rollout history as a picture: each model's challenger share, day by day."""

from __future__ import annotations

import io

import polars as pl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Two rollouts (28 days each): the picture stays readable, and its cost flat as the history
# grows (one line per challenger version over the whole history took 3.5 s on day 36, 170 lines).
PLOTTED_DAYS = 56


def share_by_day(transitions: pl.DataFrame, days: int = PLOTTED_DAYS) -> pl.DataFrame:
    """Each model's challenger share at the end of each of the last `days` days with a transition
    (columns model_name, as_of, challenger_share, challenger_version), from the transitions
    (model_name, challenger_version, as_of, challenger_share)."""
    if transitions.is_empty():
        return transitions.select("model_name", "as_of", "challenger_share", "challenger_version")
    latest = transitions["as_of"].max()
    return (
        transitions.with_row_index("order")
        .filter(pl.col("as_of") > pl.lit(latest) - pl.duration(days=days))
        .sort("model_name", "as_of", "order")
        .group_by("model_name", "as_of", maintain_order=True)
        .agg(pl.col("challenger_share").last(), pl.col("challenger_version").last())
    )


def challenger_share_plot_png(transitions: pl.DataFrame) -> bytes:
    """A step plot of each model's challenger share over the last `PLOTTED_DAYS` days (columns
    model_name, challenger_version, as_of, challenger_share)."""
    figure = Figure(figsize=(9, 3.2))
    axes = figure.add_subplot()
    daily = share_by_day(transitions)
    for (model_name,), rows in daily.group_by("model_name", maintain_order=True):
        axes.step(
            rows["as_of"].to_list(),
            rows["challenger_share"].to_list(),
            where="post",
            marker="o",
            markersize=3,
            label=model_name,
        )
    axes.set_ylim(-0.05, 1.05)
    axes.set_ylabel("challenger share")
    axes.set_title(f"Deployments: challenger share by day (last {PLOTTED_DAYS} days)")
    if daily.height:
        axes.legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
