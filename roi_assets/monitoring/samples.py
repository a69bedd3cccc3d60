"""Random samples of rows for the monitoring reports that do not need every row.

Drift distances, fairness rates and SHAP importance are estimates whose precision depends on how
many rows they see, not on how many exist: at `large` the windows hold millions of rows, and the
reports carry intervals (fairness, importance) or compare against a threshold far above their
sampling error (drift). The default world's windows are under every cap.
"""

from __future__ import annotations

import polars as pl


def at_most(frame: pl.DataFrame, rows: int, seed: int = 0) -> pl.DataFrame:
    """`frame`, or a random sample of `rows` of its rows (the same for the same seed) when it
    has more."""
    return frame.sample(rows, seed=seed) if frame.height > rows else frame
