"""What the pipeline takes from a document file, cached by content hash: the OCR result and the
first page's thumbnail (the classifier's two inputs).

OCR is by far the dearest step (about a second per page), so every reading is kept on disk under
the SHA-256 of the file's bytes and the resolution pages were rendered at: retraining the
classifier, re-running a partition or a file landing twice under another name reads nothing
twice. Entries are written atomically (temporary file, then rename), so parallel writers and a
run killed half-way never leave a torn entry; a damaged entry counts as missing.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from roi_assets.documents.image_features import page_thumbnail
from roi_assets.documents.ocr import OcrResult, ocr_scanned_pages, text_layer_reading
from roi_assets.documents.pages import DEFAULT_DPI, load_pages, load_scanned_pages
from roi_assets.process_pool import map_in_processes

# Bump when the OCR or thumbnail code changes what it reads, so old entries are not reused.
READING_VERSION = 5


@dataclass(frozen=True)
class DocumentReading:
    ocr: OcrResult
    thumbnail: np.ndarray  # (size, size) float32, from `image_features.page_thumbnail`


def first_page_thumbnail(path: Path, dpi: int = DEFAULT_DPI) -> np.ndarray:
    return page_thumbnail(load_pages(path, dpi, max_pages=1)[0])


def read_document(path: Path, dpi: int = DEFAULT_DPI) -> DocumentReading:
    """OCR a document and take its first page's thumbnail (no cache). A scan's pages are loaded
    once for both: rendering or decoding its first page a second time for the thumbnail cost
    about 5 % of reading it."""
    started = time.perf_counter()
    path = Path(path)
    from_layer = text_layer_reading(path)
    if from_layer is not None:
        return DocumentReading(from_layer, first_page_thumbnail(path, dpi))
    pages = load_scanned_pages(path, dpi)
    thumbnail = page_thumbnail(pages[0].image)
    return DocumentReading(ocr_scanned_pages(pages, started=started), thumbnail)


class ReadingCache:
    """Readings on disk, one JSON and one .npy file per (content hash, resolution)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _stem(self, sha256: str, dpi: int) -> Path:
        return self.folder / sha256[:2] / f"{sha256}-{dpi}dpi-v{READING_VERSION}"

    def get(self, sha256: str, dpi: int = DEFAULT_DPI) -> DocumentReading | None:
        stem = self._stem(sha256, dpi)
        try:
            record = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
            thumbnail = np.load(stem.with_suffix(".npy"), allow_pickle=False)
            return DocumentReading(OcrResult.from_record(record), thumbnail)
        except (OSError, EOFError, ValueError, KeyError, TypeError):
            return None

    def put(self, sha256: str, reading: DocumentReading, dpi: int = DEFAULT_DPI) -> None:
        stem = self._stem(sha256, dpi)
        stem.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.save(buffer, reading.thumbnail, allow_pickle=False)
        _write_atomically(stem.with_suffix(".npy"), buffer.getvalue())
        record = json.dumps(reading.ocr.to_record()).encode("utf-8")
        _write_atomically(stem.with_suffix(".json"), record)

    def read(self, path: Path, sha256: str, dpi: int = DEFAULT_DPI) -> DocumentReading:
        """The cached reading, or a fresh one (then cached)."""
        cached = self.get(sha256, dpi)
        if cached is not None:
            return cached
        reading = read_document(path, dpi)
        self.put(sha256, reading, dpi)
        return reading


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def _read_into(cache: ReadingCache, dpi: int, document: tuple[Path, str]) -> DocumentReading:
    path, sha256 = document
    return cache.read(path, sha256, dpi)


def read_documents(
    documents: Sequence[tuple[Path, str]],
    cache: ReadingCache,
    *,
    dpi: int = DEFAULT_DPI,
    workers: int = 2,
) -> list[DocumentReading]:
    """Readings of (path, content hash) pairs, in order: cached ones from disk, the others read in
    up to `workers` processes (`process_pool`; scripts need a `__main__` guard). Each worker
    OCRs a document, takes its thumbnail and caches the reading before the next, so a run
    killed half-way keeps what it read."""
    readings: list[DocumentReading | None] = [cache.get(sha, dpi) for _, sha in documents]
    missing = [i for i, reading in enumerate(readings) if reading is None]
    fresh = map_in_processes(
        partial(_read_into, cache, dpi),
        [documents[i] for i in missing],
        workers,
    )
    for i, reading in zip(missing, fresh, strict=True):
        readings[i] = reading
    return [reading for reading in readings if reading is not None]
