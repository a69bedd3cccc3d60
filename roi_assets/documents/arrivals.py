"""New files in the document landing folder, locally and on S3, in arrival order after a cursor.

A local file's arrival time is its inode change time: set when the file is created or renamed
into the folder, and, unlike the modification time, not carried over by copies that preserve
timestamps. On S3 it is the object's LastModified. The cursor is the last arrival handed out per
source. A look only takes arrivals that have settled: stamped at least a margin before the look
began (a second locally, which covers the clock's tick and the listing itself; half a minute on
S3, whose stamps are whole seconds taken when an upload starts). Every file stamped that early was
already visible when the look listed the folder, so nothing can later turn up behind the cursor;
a file that lands during a look waits for the next one. Uploads still in progress (hidden or
partial names) and anything that is not a regular file are ignored.

A look hands out at most a batch (a number of files and of bytes), so a burst of thousands of
files is worked through over several looks, each short.
"""

from __future__ import annotations

import heapq
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roi_assets.documents.intake import is_in_flight

S3_SCHEME = "s3://"
LOCAL_SETTLE_NS = 1_000_000_000
S3_SETTLE_NS = 30_000_000_000


@dataclass(frozen=True, order=True)
class Arrival:
    """One landed file: when it arrived, where it is, and how large it is."""

    arrived_ns: int
    location: str  # relative to the landing root ("documents/a.png"), or "s3://bucket/key"
    size: int = 0

    @property
    def mark(self) -> tuple[int, str]:
        return (self.arrived_ns, self.location)


@dataclass(frozen=True)
class ArrivalCursor:
    """The last arrival handed out, per source; `None` when nothing was handed out yet."""

    local: tuple[int, str] | None = None
    s3: tuple[int, str] | None = None

    def to_json(self) -> str:
        return json.dumps({"local": self.local, "s3": self.s3})

    @classmethod
    def from_json(cls, text: str | None) -> ArrivalCursor:
        if not text:
            return cls()
        values = json.loads(text)
        return cls(*(tuple(values[k]) if values.get(k) else None for k in ("local", "s3")))

    def advanced(self, batch: Sequence[Arrival]) -> ArrivalCursor:
        """The cursor after handing out `batch` (arrivals of either source, in order)."""
        local, s3 = self.local, self.s3
        for arrival in batch:
            if arrival.location.startswith(S3_SCHEME):
                s3 = arrival.mark
            else:
                local = arrival.mark
        return ArrivalCursor(local, s3)


def _is_after(arrival: Arrival, mark: tuple[int, str] | None) -> bool:
    return mark is None or arrival.mark > tuple(mark)


def local_arrivals(
    landing_root: Path, folder: str, after: tuple[int, str] | None, now_ns: int
) -> list[Arrival]:
    """Settled regular files under `landing_root/folder` that arrived after `after`, oldest
    first; `now_ns` is when the look began."""
    root = Path(landing_root)
    found = []
    for path in _regular_files(root / folder):
        if is_in_flight(path.name):
            continue
        stat = path.stat(follow_symlinks=False)
        arrival = Arrival(stat.st_ctime_ns, path.relative_to(root).as_posix(), stat.st_size)
        if arrival.arrived_ns + LOCAL_SETTLE_NS <= now_ns and _is_after(arrival, after):
            found.append(arrival)
    return sorted(found)


def _regular_files(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _regular_files(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                yield Path(entry.path)


def s3_folder_prefix(prefix: str, folder: str) -> str:
    """The key prefix of a landing folder in a bucket whose landing zone starts at `prefix`."""
    base = prefix.strip("/")
    return f"{base}/{folder}/" if base else f"{folder}/"


def s3_arrivals(
    client: Any,
    bucket: str,
    key_prefix: str,
    after: tuple[int, str] | None,
    now_ns: int,
) -> list[Arrival]:
    """Settled objects under `key_prefix` that arrived after `after`, oldest first; `now_ns` is
    when the look began. Stamps are whole seconds, so the cursor breaks ties on the key. A
    multipart upload is stamped when it starts: one that takes longer than the settling margin
    may land behind the cursor and is then not seen."""
    found = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key_prefix):
        for item in page.get("Contents", ()):
            key = item["Key"]
            if key.endswith("/") or is_in_flight(key.rsplit("/", 1)[-1]):
                continue
            arrived_ns = int(item["LastModified"].timestamp()) * 1_000_000_000
            arrival = Arrival(arrived_ns, f"{S3_SCHEME}{bucket}/{key}", int(item["Size"]))
            if arrived_ns + S3_SETTLE_NS <= now_ns and _is_after(arrival, after):
                found.append(arrival)
    return sorted(found)


def take_batch(
    arrivals_by_source: Sequence[Sequence[Arrival]], max_files: int, max_bytes: int
) -> list[Arrival]:
    """The oldest arrivals over all sources, at most `max_files` files and `max_bytes` bytes
    (always at least one file, however large)."""
    batch: list[Arrival] = []
    total = 0
    for arrival in heapq.merge(*arrivals_by_source):
        if len(batch) == max_files or (batch and total + arrival.size > max_bytes):
            break
        batch.append(arrival)
        total += arrival.size
    return batch
