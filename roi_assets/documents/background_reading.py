"""`make run`'s background reader: the landing zone's documents read into the reading cache while
the stages before their steps ingest and train, at the lowest CPU priority.

`make run` reads the 936-document labelled archive and about 70 arrivals: 8 minutes of Tesseract
on both cores, in steps that come after the ingestion and the first training steps, which leave
part of a core idle. This process fills that idle time (`runner`: started once the world has
written its history, stopped when the run ends). It reads the archive from its last document
backwards while the archive's step reads it from the first, through the same content-addressed
cache, so the two meet in the middle and neither reads a document twice (`ReadingCache.read`
looks in the cache first); then it reads the arrivals, which the sensor's runs read after the
retrain. It writes the cache only: the runs still check, record and quarantine every document.
A local landing zone only (an S3 one is read by its runs).

    python -m roi_assets.documents.background_reading
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from roi_assets import settings
from roi_assets.documents.arrivals import local_arrivals
from roi_assets.documents.assets import INCOMING_FOLDER, reading_cache
from roi_assets.documents.document_reading import ReadingCache
from roi_assets.documents.intake import validate_document
from roi_assets.documents.labelled_corpus import labelled_files
from roi_assets.documents.landed import local_path
from roi_assets.documents.pages import DEFAULT_DPI


def reading_order(landing_root: Path, now_ns: int | None = None) -> list[Path]:
    """The archive from its last file to its first (its step reads it the other way), then the
    arrivals settled by `now_ns` (default: now), oldest first, as the sensor requests them."""
    archive = [local_path(location, landing_root) for location, _ in labelled_files(landing_root)]
    now_ns = time.time_ns() if now_ns is None else now_ns
    arrivals = local_arrivals(landing_root, INCOMING_FOLDER, None, now_ns)
    return [*reversed(archive), *(local_path(a.location, landing_root) for a in arrivals)]


def read_into_cache(
    paths: Sequence[Path], cache: ReadingCache, dpi: int = DEFAULT_DPI
) -> tuple[int, list[str]]:
    """Read every document intake accepts and the cache lacks; returns how many this call read,
    and the documents whose reading failed (with the error), which their runs will meet again."""
    read, failed = 0, []
    for path in paths:
        intake = validate_document(path)
        if not intake.accepted or cache.get(intake.content_sha256, dpi) is not None:
            continue
        try:
            cache.read(path, intake.content_sha256, dpi)
        except Exception as error:  # the run reading it records the failure; here, go on
            failed.append(f"{path.name}: {error!r}")
            continue
        read += 1
    return read, failed


def main() -> int:
    os.nice(19)  # idle time only: the stages keep the cores they ask for
    if settings.s3_landing_bucket():
        print("The landing zone is on S3: its documents are read by their runs.")
        return 0
    started = time.perf_counter()
    paths = reading_order(settings.landing_dir())
    read, failed = read_into_cache(paths, reading_cache())
    for line in failed:
        print(f"not read ahead: {line}")
    print(
        f"Read {read} of {len(paths)} documents ahead into the cache "
        f"({time.perf_counter() - started:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
