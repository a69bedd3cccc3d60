"""Feature tables as partitioned Parquet (dbt's `export_*` models) and batch scoring over them.

dbt writes each exported feature table under settings.feature_export_dir() (a folder every worker
mounts, or an s3:// prefix), one Parquet file per model. Workers read their row groups in
partitions, so no machine holds a whole table; scores come back as a partitioned frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from roi_assets import settings

EXPORTED_TABLES = ("feat_email_engagement", "feat_client_churn", "feat_client_daily")
DEFAULT_BLOCKSIZE = "128MiB"
DEFAULT_CHUNK_ROWS = 200_000


def export_path(table: str, root: str | None = None) -> str:
    """Where dbt exports `table` (features.<table>) as Parquet."""
    if table not in EXPORTED_TABLES:
        raise ValueError(f"{table!r} is not exported; exported: {', '.join(EXPORTED_TABLES)}")
    base = (root or settings.feature_export_dir()).rstrip("/")
    return f"{base}/{table}.parquet"


def read_feature_partitions(
    table: str,
    columns: Sequence[str] | None = None,
    root: str | None = None,
    blocksize: str = DEFAULT_BLOCKSIZE,
) -> Any:
    """The exported table as a dask DataFrame, a partition per `blocksize` of row groups."""
    import dask.dataframe as dd

    return dd.read_parquet(
        export_path(table, root), columns=list(columns) if columns else None, blocksize=blocksize
    )


def score_partitions(
    predict: Callable[[pd.DataFrame], np.ndarray], frame: Any, keys: Sequence[str]
) -> Any:
    """`predict` applied to every partition of a dask DataFrame on the workers: the keys and a
    `score` column, partition by partition."""

    def score(part: pd.DataFrame) -> pd.DataFrame:
        return part[list(keys)].assign(score=np.asarray(predict(part), dtype=np.float64))

    meta = frame._meta[list(keys)].assign(score=np.float64())
    return frame.map_partitions(score, meta=meta)


def score_in_chunks(
    predict: Callable[[pd.DataFrame], np.ndarray],
    frame: pd.DataFrame,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> np.ndarray:
    """The single-machine path: `predict` over consecutive row chunks, so memory holds one
    chunk's intermediate arrays at a time; the same scores as one call."""
    if len(frame) == 0:
        return np.empty(0)
    return np.concatenate(
        [
            np.asarray(predict(frame.iloc[start : start + chunk_rows]), dtype=np.float64)
            for start in range(0, len(frame), chunk_rows)
        ]
    )
