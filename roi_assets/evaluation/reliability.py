"""Reliability curves: do predicted probabilities match observed frequencies?

The curve's data comes from `sklearn.calibration.calibration_curve`; the plot is drawn on a
matplotlib Agg canvas (no display, no pyplot global state, safe inside worker processes) and
returned as PNG bytes so asset metadata and MLflow can embed it.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping

import numpy as np
import polars as pl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from sklearn.calibration import calibration_curve

from roi_assets.evaluation.binary_metrics import DEFAULT_CALIBRATION_BINS, binary_arrays


def reliability_curve(
    y_true: ArrayLike,
    scores: ArrayLike,
    n_bins: int = DEFAULT_CALIBRATION_BINS,
    strategy: str = "uniform",
) -> pl.DataFrame:
    """Per non-empty bin: the mean predicted probability and the observed frequency of positives."""
    outcomes, probabilities = binary_arrays(y_true, scores)
    observed, predicted = calibration_curve(
        outcomes, probabilities, n_bins=n_bins, strategy=strategy
    )
    return pl.DataFrame({"mean_predicted": predicted, "observed_frequency": observed})


def reliability_plot_png(
    y_true: ArrayLike,
    scores_by_name: Mapping[str, ArrayLike],
    n_bins: int = DEFAULT_CALIBRATION_BINS,
    title: str = "Reliability",
) -> bytes:
    """Reliability curves of several scorers on the same rows (e.g. model, oracle, baseline), with
    the histogram of their scores underneath, as PNG bytes."""
    if not scores_by_name:
        raise ValueError("no scores to plot")
    figure = Figure(figsize=(6.4, 6.4), layout="constrained")
    curves, histogram = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1)})
    curves.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    bins = np.linspace(0.0, 1.0, n_bins + 1)
    for name, scores in scores_by_name.items():
        curve = reliability_curve(y_true, scores, n_bins=n_bins)
        curves.plot(curve["mean_predicted"], curve["observed_frequency"], marker="o", label=name)
        histogram.hist(np.asarray(scores, dtype=np.float64), bins=bins, histtype="step", label=name)
    curves.set(title=title, ylabel="observed frequency", xlim=(0, 1), ylim=(0, 1))
    curves.legend(loc="upper left")
    histogram.set(xlabel="predicted probability", ylabel="rows")
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def png_markdown(png: bytes, alt_text: str) -> str:
    """An inline markdown image, the way asset metadata shows plots."""
    return f"![{alt_text}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
