"""Writes a world's files the way real sources deliver them into the landing zone.

CRM and billing exports arrive as CSV, the email service's sends as Parquet and its webhooks as
JSON lines, product analytics as Parquet. Files are written once, atomically (temp file + rename),
and an existing file is never rewritten: the landing zone belongs to the sources.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd


def write_once(path: Path, write: Callable[[Path], None]) -> bool:
    """Write `path` through a temporary file unless it already exists; True when written."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    write(temporary)
    os.replace(temporary, path)
    return True


def write_csv(path: Path, frame: pd.DataFrame) -> bool:
    return write_once(path, lambda p: frame.to_csv(p, index=False))


def write_parquet(path: Path, frame: pd.DataFrame) -> bool:
    return write_once(path, lambda p: frame.to_parquet(p, index=False))


def write_json_lines(path: Path, records: list[dict]) -> bool:
    def write(p: Path) -> None:
        with p.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, default=str) + "\n")

    return write_once(path, write)


def corrupt_some_webhooks(records: list[dict], rng: np.random.Generator) -> list[dict]:
    """Real webhooks arrive duplicated and, rarely, malformed: keep both so ingestion is tested."""
    out = list(records)
    n = len(records)
    if n == 0:
        return out
    for i in rng.choice(n, max(1, n // 100), replace=False):
        out.append(dict(records[i]))
    for i in rng.choice(n, max(1, n // 2000), replace=False):
        broken = dict(records[i])
        kind = rng.integers(0, 3)
        if kind == 0:
            broken["occurred_at"] = "not-a-timestamp"
        elif kind == 1:
            broken.pop("send_id")
        else:
            broken["event_type"] = "bounce_unknown"
        out[i] = broken
    return out
