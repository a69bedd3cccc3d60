"""One JSON line per request, for the monitoring side: `serving_log/requests-<pid>.jsonl`.

Fields: ts (ISO 8601, UTC), endpoint, model_name, model_version, latency_ms, status_code. One file
per process, so several workers never interleave lines. Lines go through a buffered file and reach
the disk at most `flush_seconds` later (and when the app stops): no fsync per request, at the cost
of losing the last second of lines if the process is killed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from pathlib import Path

BUFFER_BYTES = 1 << 16


class RequestLog:
    def __init__(self, folder: Path, flush_seconds: float = 1.0) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"requests-{os.getpid()}.jsonl"
        self._file = self.path.open("a", encoding="utf-8", buffering=BUFFER_BYTES)
        self._flush_seconds = flush_seconds
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()

    def write(
        self,
        *,
        endpoint: str,
        model_name: str | None,
        model_version: str | None,
        latency_ms: float,
        status_code: int,
    ) -> None:
        line = json.dumps(
            {
                "ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                "endpoint": endpoint,
                "model_name": model_name,
                "model_version": model_version,
                "latency_ms": round(latency_ms, 3),
                "status_code": status_code,
            }
        )
        with self._lock:
            self._file.write(line + "\n")
            now = time.monotonic()
            if now - self._last_flush >= self._flush_seconds:
                self._file.flush()
                self._last_flush = now

    def flush(self) -> None:
        with self._lock:
            self._file.flush()
            self._last_flush = time.monotonic()

    def close(self) -> None:
        with self._lock:
            self._file.close()
