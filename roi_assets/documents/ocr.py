"""Text of an accepted document: read from its text layer, or recognised by Tesseract or Textract.

The route per document:

1. A PDF whose every page carries real text (software exports) is read directly: no OCR, no
   recognition errors, and a fraction of the time.
2. Otherwise each page is rendered and scored (`quality.score_quality`); the document's quality
   is the mean of its pages' scores weighted by their ink, so an almost empty signature page,
   whose few strokes say little about sharpness, does not decide for the pages full of text.
3. `choose_engine` decides: quality at or above 0.8 goes to Tesseract with the `standard` preset;
   below it, Textract when it is configured; otherwise Tesseract with the `strong` preset, and the
   document is flagged for human review.

A document is also flagged for review when the engine's own confidence is low, and when Textract
fails (the pages are then read by Tesseract with the strong preset). Documents are processed in
parallel across a process pool (`ocr_documents`), each page single-threaded.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from botocore.exceptions import BotoCoreError, ClientError

from roi_assets.documents.page_text import PageText, document_confidence
from roi_assets.documents.pages import (
    DEFAULT_DPI,
    has_usable_text_layer,
    is_pdf,
    load_pages,
    read_text_layer,
)
from roi_assets.documents.preprocess import preprocess
from roi_assets.documents.quality import QualityReport, score_quality
from roi_assets.documents.tesseract import limit_tesseract_threads, tesseract_page
from roi_assets.documents.textract import textract_client, textract_configured, textract_page

QUALITY_THRESHOLD = 0.8  # the specification's routing threshold
REVIEW_CONFIDENCE = 0.6  # below this document confidence a person checks the text


class Engine(StrEnum):
    TEXT_LAYER = "text_layer"
    TESSERACT = "tesseract"
    TEXTRACT = "textract"


@dataclass(frozen=True)
class OcrPlan:
    engine: Engine
    preset: str  # `preprocess` preset and Tesseract page mode ("none": Textract reads it as is)
    needs_review: bool


def choose_engine(
    quality: float, textract_available: bool, threshold: float = QUALITY_THRESHOLD
) -> OcrPlan:
    """The specification's routing rule for a scanned document of the given quality."""
    if quality >= threshold:
        return OcrPlan(Engine.TESSERACT, "standard", needs_review=False)
    if textract_available:
        return OcrPlan(Engine.TEXTRACT, "none", needs_review=False)
    return OcrPlan(Engine.TESSERACT, "strong", needs_review=True)


@dataclass(frozen=True)
class OcrResult:
    """What the pipeline knows about a document's text; `to_record` is JSON-ready."""

    text: str
    engine: Engine
    confidence: float  # 0..1, character-weighted word confidence (1.0 for a text layer)
    quality: float | None  # 0..1, ink-weighted over pages; None for a text layer (no image judged)
    page_count: int
    seconds: float
    needs_review: bool
    preset: str | None = None
    page_confidences: tuple[float, ...] = ()
    page_qualities: tuple[float, ...] = ()

    def to_record(self) -> dict:
        record = asdict(self)
        record["engine"] = str(self.engine)
        record["page_confidences"] = list(self.page_confidences)
        record["page_qualities"] = list(self.page_qualities)
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> OcrResult:
        values = dict(record)
        values["engine"] = Engine(values["engine"])
        values["page_confidences"] = tuple(values.get("page_confidences", ()))
        values["page_qualities"] = tuple(values.get("page_qualities", ()))
        return cls(**values)


def _join_pages(texts: Sequence[str]) -> str:
    return "\n\n".join(text.strip("\n") for text in texts)


def _tesseract_pages(pages: Sequence[np.ndarray], preset: str) -> list[PageText]:
    return [tesseract_page(preprocess(page, preset).image, preset) for page in pages]


def document_quality(reports: Sequence[QualityReport]) -> float:
    """Pages' quality scores averaged with their ink as weights (a blank page weighs nothing)."""
    weights = np.array([max(report.ink_fraction, 1e-6) for report in reports])
    return float(np.average([report.score for report in reports], weights=weights))


@dataclass(frozen=True)
class PagesRead:
    """How a scanned document's pages were read and what came out of each."""

    engine: Engine
    preset: str
    needs_review: bool
    pages: tuple[PageText, ...]
    qualities: tuple[float, ...]
    quality: float


def read_pages(
    pages: Sequence[np.ndarray],
    *,
    textract: Any | None = None,
    environ: Mapping[str, str] | None = None,
    threshold: float = QUALITY_THRESHOLD,
) -> PagesRead:
    """Score, route and recognise the page images of one scanned document."""
    reports = [score_quality(page) for page in pages]
    qualities = tuple(report.score for report in reports)
    quality = document_quality(reports)
    available = textract is not None or textract_configured(environ)
    plan = choose_engine(quality, available, threshold)
    if plan.engine is Engine.TEXTRACT:
        try:
            client = textract if textract is not None else textract_client(environ)
            texts = tuple(textract_page(page, client) for page in pages)
            return PagesRead(plan.engine, plan.preset, plan.needs_review, texts, qualities, quality)
        except (BotoCoreError, ClientError):
            # Textract down or refusing: read the pages ourselves and let a person check them
            fallback = "strong"
            texts = tuple(_tesseract_pages(pages, fallback))
            return PagesRead(Engine.TESSERACT, fallback, True, texts, qualities, quality)
    texts = tuple(_tesseract_pages(pages, plan.preset))
    return PagesRead(plan.engine, plan.preset, plan.needs_review, texts, qualities, quality)


def ocr_document(
    path: Path,
    *,
    dpi: int = DEFAULT_DPI,
    textract: Any | None = None,
    environ: Mapping[str, str] | None = None,
    threshold: float = QUALITY_THRESHOLD,
) -> OcrResult:
    """Read one accepted document (see the module docstring for the route).

    `textract` is a boto3 Textract client; without one, a client is made from the environment
    when Textract is configured there, and Textract is not used otherwise.
    """
    start = time.perf_counter()
    path = Path(path)
    if is_pdf(path):
        layer = read_text_layer(path)
        if has_usable_text_layer(layer):
            return OcrResult(
                _join_pages(layer),
                Engine.TEXT_LAYER,
                1.0,
                None,
                len(layer),
                time.perf_counter() - start,
                needs_review=False,
            )

    pages = load_pages(path, dpi)
    read = read_pages(pages, textract=textract, environ=environ, threshold=threshold)
    confidence = document_confidence(read.pages)
    return OcrResult(
        text=_join_pages([page.text for page in read.pages]),
        engine=read.engine,
        confidence=confidence,
        quality=read.quality,
        page_count=len(pages),
        seconds=time.perf_counter() - start,
        needs_review=read.needs_review or confidence < REVIEW_CONFIDENCE,
        preset=read.preset,
        page_confidences=tuple(page.confidence for page in read.pages),
        page_qualities=read.qualities,
    )


def ocr_documents(
    paths: Sequence[Path],
    *,
    workers: int = 2,
    dpi: int = DEFAULT_DPI,
    threshold: float = QUALITY_THRESHOLD,
) -> list[OcrResult]:
    """`ocr_document` over many documents in a process pool, one document per worker at a time.

    Workers are spawned (not forked, so no threads or locks of the caller are inherited) and
    run Tesseract single-threaded; Textract clients are made in each worker from the environment.
    Results come back in the order of `paths`; a failing document raises. Spawned workers import
    the caller's main module, so a script calls this under `if __name__ == "__main__":`.
    """
    if workers <= 1 or len(paths) <= 1:
        limit_tesseract_threads()
        return [ocr_document(p, dpi=dpi, threshold=threshold) for p in paths]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=limit_tesseract_threads
    ) as pool:
        return list(pool.map(partial(ocr_document, dpi=dpi, threshold=threshold), paths))
