"""The two caches in front of the models.

- `EdgeCache`: the batch scores the pipeline already computed (marts.* in the BI copy of the
  warehouse) answer known clients without running a model. The BI copy is replaced atomically
  after each run, so the cache opens it read-only, copies what it needs into memory, closes it, and
  reloads when the file changes (inode, mtime or size). A batch row is only served while its
  `model_version` is the version the API serves, so a new champion never answers from a stale mart.
- `ScoreCache`: a TTL cache of computed answers keyed by model, version and input, for repeated
  requests with the same payload. A reload to a new version clears it.

The same snapshot carries the running experiments (monitoring.rollout_state) and, for clients the
mart cannot answer (e.g. routed to a challenger), their engagement feature row for an email sent
at the scoring moment, the same `features.feat_email_scoring` rows the mart scored.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from cachetools import TTLCache

from roi_assets.engagement.scoring import SCORING_TABLE, scoring_rows
from roi_assets.serving.routing import Experiment, read_experiments

logger = logging.getLogger(__name__)

ENGAGEMENT_OPEN = "roi-engagement-open"
CHURN_30D = "roi-churn-30d"
SEND_TIME = "roi-send-time-dqn"
CONTENT_BANDIT = "roi-content-bandit"
DOCUMENT_CLASSIFIER = "roi-document-classifier"

# One query per served model: client_id, model_version and the answer's columns.
MART_QUERIES: dict[str, str] = {
    ENGAGEMENT_OPEN: (
        "select client_id, p_open_model_version as model_version, p_open, p_click "
        "from marts.engagement_scores"
    ),
    CHURN_30D: (
        "select client_id, model_version, probability, tier, top_reasons, recommended_action "
        "from marts.churn_risk where window_days = 30"
    ),
    SEND_TIME: (
        "select client_id, model_version, best_hour_of_week_local, best_hour_of_week_utc, "
        "expected_open_probability from marts.send_time_recommendations"
    ),
    CONTENT_BANDIT: "select * exclude (scored_at) from marts.content_assignments",
}
ENGAGEMENT_FEATURES_TABLE = SCORING_TABLE

FileStamp = tuple[int, int, int]


def _stamp(path: Path) -> FileStamp | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _query(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame | None:
    try:
        return con.execute(sql).pl()
    except duckdb.CatalogException:
        return None


@dataclass(frozen=True)
class BatchSnapshot:
    """What one version of the BI copy says: mart rows per model and client, the experiments and
    the engagement feature rows."""

    stamp: FileStamp | None = None
    scores: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    experiments: dict[str, Experiment] = field(default_factory=dict)
    engagement_rows: pl.DataFrame | None = None
    engagement_row_index: dict[str, int] = field(default_factory=dict)

    def engagement_row(self, client_id: str) -> pl.DataFrame | None:
        index = self.engagement_row_index.get(client_id)
        if index is None or self.engagement_rows is None:
            return None
        return self.engagement_rows.slice(index, 1)


def read_snapshot(path: Path) -> BatchSnapshot:
    """Everything the API takes from the BI copy; an empty snapshot when the file is missing."""
    stamp = _stamp(path)
    if stamp is None:
        return BatchSnapshot()
    with duckdb.connect(str(path), read_only=True) as con:
        scores = {}
        for model_name, sql in MART_QUERIES.items():
            frame = _query(con, sql)
            if frame is not None:
                scores[model_name] = {row["client_id"]: row for row in frame.iter_rows(named=True)}
        experiments = read_experiments(con)
        features = _query(con, f"select * from {ENGAGEMENT_FEATURES_TABLE}")
    rows = None
    if features is not None and features.height:
        rows = scoring_rows(features, features["client_id"])
    index = {} if rows is None else {c: i for i, c in enumerate(rows["client_id"].to_list())}
    return BatchSnapshot(stamp, scores, experiments, rows, index)


class EdgeCache:
    """The current snapshot of the BI copy, reloaded when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.snapshot = BatchSnapshot()
        self._lock = threading.Lock()

    def refresh(self) -> bool:
        """Reload when the BI copy changed since the last load; True when it did."""
        with self._lock:
            stamp = _stamp(self.path)
            if stamp == self.snapshot.stamp:
                return False
            self.snapshot = read_snapshot(self.path)
            logger.info("batch scores reloaded from %s", self.path)
            return True

    def lookup(self, model_name: str, client_id: str, model_version: str) -> dict | None:
        """The mart row of a client, only when the mart was scored by `model_version`."""
        row = self.snapshot.scores.get(model_name, {}).get(client_id)
        if row is None or str(row["model_version"]) != model_version:
            return None
        return row

    def experiment(self, model_name: str) -> Experiment | None:
        return self.snapshot.experiments.get(model_name)


class ScoreCache:
    """A thread-safe TTL cache of computed answers (cachetools' caches are not thread-safe, and
    sync endpoints run on a thread pool)."""

    def __init__(self, maxsize: int, ttl_seconds: float) -> None:
        self._cache: TTLCache = TTLCache(maxsize=maxsize, ttl=ttl_seconds)
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            return self._cache.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._cache[key] = value

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)
