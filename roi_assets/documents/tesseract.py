"""Tesseract through its C++ API (tesserocr): one engine per thread, loaded once, reads every page.

Called as a command (pytesseract), Tesseract started a process per page, loaded its language
model again and parsed a temporary image file: on the simulated scans a page cost 0.84 s of CPU
that way, and 0.61 s through the API, at error rates within a tenth of a point (benchmarks/ocr.py;
docs/benchmarks.md, "Tesseract in the process").

Tesseract's own layout analysis decides how each page is segmented (`PSM.AUTO`, the command's
`--psm 3`): it finds the columns of a brochure or a magazine page and the blocks of a form, and
returns them in reading order. Fixed modes that treat the page as one block (`--psm 6`) read
across columns: on a real two-column scan they scrambled the text (CER 37 % against 1.6 %), and on
the simulated forms, once the table rules are erased (`preprocess.remove_rules`), automatic
segmentation reads table rows in order too. The page's resolution is passed on so that Tesseract
never guesses it.

The page's TSV output gives each word with its block, paragraph and line numbers and its
confidence, so the page text is rebuilt from it in one recognition.

Orientation: `page_orientation` asks Tesseract's orientation and script detection (OSD) how far a
page is turned; `ocr.read_pages` asks when a page reads with low confidence (an upright page
reads with high confidence, so OSD's cost is only paid for the pages that need it).

The wheel's Tesseract is built without OpenMP, so every engine is single-threaded: the pipeline
parallelises across documents (`document_reading.read_documents`) instead, which is faster on a
busy machine than threads contending inside every page.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np
import tesserocr
from PIL import Image

from roi_assets import settings
from roi_assets.documents.page_text import PageText

# Tesseract's extra noise removal in its layout analysis, for pages whose paper is visibly noisy:
# on heavily damaged simulated scans it cut the error rate by about a quarter.
HEAVY_NOISE_VARIABLE = "textord_heavy_nr"
# OSD reads a page scaled to this resolution: orientation needs letter shapes, not detail.
OSD_DPI = 150

_engines = threading.local()


def _engine(kind: str) -> tesserocr.PyTessBaseAPI:
    """This thread's engine of the kind ("eng" to read, "osd" to orient), loaded on first use:
    an engine serves one caller at a time, and loading one costs about 0.1 s."""
    engine = getattr(_engines, kind, None)
    if engine is None:
        path = f"{settings.tessdata_dir()}/"
        if kind == "osd":
            engine = tesserocr.PyTessBaseAPI(path=path, lang="osd", psm=tesserocr.PSM.OSD_ONLY)
        else:
            engine = tesserocr.PyTessBaseAPI(
                path=path, lang=kind, oem=tesserocr.OEM.LSTM_ONLY, psm=tesserocr.PSM.AUTO
            )
        setattr(_engines, kind, engine)
    return engine


def tesseract_version() -> str:
    """The engine's version line, e.g. "tesseract 5.5.4"."""
    return tesserocr.tesseract_version().splitlines()[0]


def _words(tsv: str) -> list[tuple[tuple[int, int, int], str, float]]:
    """(block, paragraph, line), text and confidence of every recognised word in Tesseract's TSV
    (level 5 rows; rows of the levels above carry no word)."""
    words = []
    for row in tsv.splitlines():
        fields = row.split("\t")
        if len(fields) < 12 or fields[0] != "5":
            continue
        confidence = float(fields[10])
        if confidence < 0 or not fields[11].strip():
            continue
        words.append(((int(fields[2]), int(fields[3]), int(fields[4])), fields[11], confidence))
    return words


def tesseract_page(page: np.ndarray, dpi: int, *, heavy_noise: bool = False) -> PageText:
    """Text of one grayscale page (already cleaned up) in Tesseract's reading order, and its
    character-weighted word confidence."""
    engine = _engine("eng")
    engine.SetVariable(HEAVY_NOISE_VARIABLE, "1" if heavy_noise else "0")
    engine.SetImage(Image.fromarray(page))
    engine.SetSourceResolution(int(dpi))
    words = _words(engine.GetTSVText(0))
    engine.Clear()
    lines: dict[tuple[int, int, int], list[str]] = {}
    for key, word, _ in words:
        lines.setdefault(key, []).append(word)
    parts: list[str] = []
    previous: tuple[int, int] | None = None
    for (block, paragraph, _), line_words in lines.items():
        if previous is not None and (block, paragraph) != previous:
            parts.append("")  # a blank line between paragraphs, as Tesseract's text output has
        parts.append(" ".join(line_words))
        previous = (block, paragraph)
    return PageText.from_words("\n".join(parts), [(word, conf) for _, word, conf in words])


@dataclass(frozen=True)
class Orientation:
    """What OSD says: turn the page by `rotate` degrees clockwise to make it upright."""

    rotate: int  # 0, 90, 180 or 270
    confidence: float  # OSD's orientation confidence (above about 2 it is rarely wrong)
    script: str


def page_orientation(page: np.ndarray, dpi: int) -> Orientation | None:
    """Tesseract's orientation and script detection on the page; None when the page has too
    little text for it to decide."""
    scale = min(1.0, OSD_DPI / dpi)
    small = (
        page
        if scale >= 1.0
        else cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    )
    engine = _engine("osd")
    engine.SetImage(Image.fromarray(small))
    engine.SetSourceResolution(round(dpi * scale))
    osd = engine.DetectOrientationScript()
    engine.Clear()
    if not osd:  # too few characters: nothing to orient by
        return None
    # OSD reports how far the page is turned clockwise; the turn back is its complement, which
    # is what the command-line tool prints as "Rotate"
    rotate = (360 - int(osd["orient_deg"])) % 360
    return Orientation(rotate, float(osd["orient_conf"]), str(osd["script_name"]))


_TURNS = {
    0: None,
    90: cv2.ROTATE_90_CLOCKWISE,
    180: cv2.ROTATE_180,
    270: cv2.ROTATE_90_COUNTERCLOCKWISE,
}


def rotate_upright(page: np.ndarray, rotate: int) -> np.ndarray:
    """The page turned `rotate` degrees clockwise (OSD's convention)."""
    code = _TURNS[rotate % 360]
    return page if code is None else cv2.rotate(page, code)
