"""Text of an accepted document: read from its text layer, or recognised by Tesseract or Textract.

The route per document:

1. A PDF whose every page carries real text (software exports) is read directly: no OCR, no
   recognition errors, and a fraction of the time.
2. Otherwise each page is rendered and scored (`quality.score_quality`); the document's quality
   is the mean of its pages' scores weighted by their ink, so an almost empty signature page,
   whose few strokes say little about sharpness, does not decide for the pages full of text.
3. `choose_engine` decides: quality at or above 0.8 goes to Tesseract (`standard`); below it,
   Textract when it is configured; otherwise Tesseract (`strong`), and the document is flagged
   for human review.
4. Tesseract reads each page at its own resolution (a scan below 150 dpi is up-sampled to
   200 dpi first), after the clean-up its measurements call for (`preprocess.plan_clean_up`),
   with Tesseract's own layout analysis deciding the reading order. A page that reads with low
   confidence is checked for orientation (Tesseract OSD) and read again turned upright.
5. The text is cleaned of recognition artefacts (`text_cleaning.clean_ocr_text`).

A document is also flagged for review when the engine's own confidence is low, and when Textract
fails (the pages are then read by Tesseract). Documents are read in parallel across a process pool
(`document_reading.read_documents`), each page single-threaded.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from botocore.exceptions import BotoCoreError, ClientError

from roi_assets.documents.page_text import PageText, document_confidence
from roi_assets.documents.pages import (
    DEFAULT_DPI,
    ScannedPage,
    has_usable_text_layer,
    is_pdf,
    load_scanned_pages,
    read_text_layer,
)
from roi_assets.documents.preprocess import plan_clean_up, preprocess
from roi_assets.documents.quality import QualityReport, score_quality
from roi_assets.documents.tesseract import (
    page_orientation,
    rotate_upright,
    tesseract_page,
)
from roi_assets.documents.text_cleaning import clean_ocr_text
from roi_assets.documents.textract import textract_client, textract_configured, textract_page

QUALITY_THRESHOLD = 0.8  # the specification's routing threshold
REVIEW_CONFIDENCE = 0.6  # below this document confidence a person checks the text
# Below this resolution letters are too small for Tesseract's recogniser (x-height under about
# 10 pixels); such scans are up-sampled to OCR_DPI first.
MIN_OCR_DPI = 150
OCR_DPI = 200
# A page read with less confidence than this may be turned: OSD is asked, and the page read again
# upright when OSD is sure (an upright page of any damage level reads above 0.7).
ORIENTATION_CHECK_BELOW = 0.6
MIN_OSD_CONFIDENCE = 2.0


class Engine(StrEnum):
    TEXT_LAYER = "text_layer"
    TESSERACT = "tesseract"
    TEXTRACT = "textract"


@dataclass(frozen=True)
class OcrPlan:
    engine: Engine
    preset: str  # route: "standard", "strong" (low quality, no Textract) or "none" (Textract)
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
    page_rotations: tuple[int, ...] = ()  # degrees each page was turned to read it upright

    def to_record(self) -> dict:
        record = asdict(self)
        record["engine"] = str(self.engine)
        for name in _PER_PAGE:
            record[name] = list(getattr(self, name))
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> OcrResult:
        values = dict(record)
        values["engine"] = Engine(values["engine"])
        for name in _PER_PAGE:
            values[name] = tuple(values.get(name, ()))
        return cls(**values)


_PER_PAGE = ("page_confidences", "page_qualities", "page_rotations")


def _join_pages(texts: Sequence[str]) -> str:
    return "\n\n".join(text.strip("\n") for text in texts)


@dataclass(frozen=True)
class PageReading:
    """What Tesseract made of one page, after which clean-up and turned by how much."""

    text: PageText
    steps: tuple[str, ...]
    rotation: int
    dpi: int


def ocr_resolution(page: ScannedPage) -> ScannedPage:
    """The page as Tesseract should get it: up-sampled to `OCR_DPI` when below `MIN_OCR_DPI`."""
    if page.dpi >= MIN_OCR_DPI:
        return page
    factor = OCR_DPI / page.dpi
    image = cv2.resize(page.image, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    return ScannedPage(image, OCR_DPI)


def tesseract_read(page: ScannedPage, report: QualityReport) -> PageReading:
    """Clean up and read one page as its measurements call for, turning it upright when it
    reads poorly and OSD is sure it is turned."""
    page = ocr_resolution(page)
    plan = plan_clean_up(report.skew_degrees, report.noise_sigma, report.otsu_margin)
    image = preprocess(page.image, plan.steps, page.dpi).image
    text = tesseract_page(image, page.dpi, heavy_noise=plan.heavy_noise)
    rotation = 0
    if text.confidence < ORIENTATION_CHECK_BELOW:
        orientation = page_orientation(image, page.dpi)
        if (
            orientation is not None
            and orientation.rotate
            and orientation.confidence >= MIN_OSD_CONFIDENCE
        ):
            upright = rotate_upright(image, orientation.rotate)
            turned = tesseract_page(upright, page.dpi, heavy_noise=plan.heavy_noise)
            if turned.confidence > text.confidence:
                text, rotation = turned, orientation.rotate
    cleaned = PageText(clean_ocr_text(text.text), text.confidence, text.n_chars)
    return PageReading(cleaned, plan.steps, rotation, page.dpi)


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
    rotations: tuple[int, ...] = ()
    steps: tuple[tuple[str, ...], ...] = ()


def _as_scanned(pages: Sequence[np.ndarray | ScannedPage], dpi: int) -> list[ScannedPage]:
    return [p if isinstance(p, ScannedPage) else ScannedPage(p, dpi) for p in pages]


def read_pages(
    pages: Sequence[np.ndarray | ScannedPage],
    *,
    textract: Any | None = None,
    environ: Mapping[str, str] | None = None,
    threshold: float = QUALITY_THRESHOLD,
    dpi: int = DEFAULT_DPI,
) -> PagesRead:
    """Score, route and recognise the pages of one scanned document (bare arrays are taken to
    be at `dpi`)."""
    scanned = _as_scanned(pages, dpi)
    reports = [score_quality(page.image) for page in scanned]
    qualities = tuple(report.score for report in reports)
    quality = document_quality(reports)
    available = textract is not None or textract_configured(environ)
    plan = choose_engine(quality, available, threshold)
    if plan.engine is Engine.TEXTRACT:
        try:
            client = textract if textract is not None else textract_client(environ)
            texts = tuple(textract_page(page.image, client) for page in scanned)
            return PagesRead(plan.engine, plan.preset, plan.needs_review, texts, qualities, quality)
        except (BotoCoreError, ClientError):
            # Textract down or refusing: read the pages ourselves and let a person check them
            plan = OcrPlan(Engine.TESSERACT, "strong", needs_review=True)
    readings = [tesseract_read(page, report) for page, report in zip(scanned, reports, strict=True)]
    return PagesRead(
        plan.engine,
        plan.preset,
        plan.needs_review,
        tuple(r.text for r in readings),
        qualities,
        quality,
        tuple(r.rotation for r in readings),
        tuple(r.steps for r in readings),
    )


def text_layer_reading(path: Path) -> OcrResult | None:
    """The document read from its text layer when every page carries real text (route step 1),
    or None when some page needs OCR."""
    start = time.perf_counter()
    if not is_pdf(path):
        return None
    layer = read_text_layer(path)
    if not has_usable_text_layer(layer):
        return None
    return OcrResult(
        _join_pages(layer),
        Engine.TEXT_LAYER,
        1.0,
        None,
        len(layer),
        time.perf_counter() - start,
        needs_review=False,
    )


def ocr_scanned_pages(
    pages: Sequence[ScannedPage],
    *,
    textract: Any | None = None,
    environ: Mapping[str, str] | None = None,
    threshold: float = QUALITY_THRESHOLD,
    started: float | None = None,
) -> OcrResult:
    """Read a scanned document's loaded pages (route steps 2-5). `started` is when the reading
    began (`time.perf_counter()`), so that the result's seconds include loading the pages."""
    start = time.perf_counter() if started is None else started
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
        page_rotations=read.rotations,
    )


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
    from_layer = text_layer_reading(path)
    if from_layer is not None:
        return from_layer
    return ocr_scanned_pages(
        load_scanned_pages(path, dpi),
        textract=textract,
        environ=environ,
        threshold=threshold,
        started=start,
    )
