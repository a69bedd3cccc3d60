"""Tesseract through pytesseract: one call per page gives the text and every word's confidence.

Tesseract's own layout analysis decides how each page is segmented (`--psm 3`): it finds the
columns of a brochure or a magazine page and the blocks of a form, and returns them in reading
order. Fixed modes that treat the page as one block (`--psm 6`) read across columns: on a real
two-column scan they scrambled the text (CER 37 % against 1.6 %), and on the simulated forms, once
the table rules are erased (`preprocess.remove_rules`), automatic segmentation reads table rows
in order too. The page's resolution is passed on (`--dpi`) so that Tesseract never guesses it.

`image_to_data` returns each word with its block, paragraph and line numbers, so the page text is
rebuilt from it rather than running Tesseract a second time for `image_to_string`.

Orientation: `page_orientation` asks Tesseract's orientation and script detection (OSD) how far a
page is turned; `ocr.read_pages` asks when a page reads with low confidence (an upright page
reads with high confidence, so OSD's cost is only paid for the pages that need it).

Tesseract runs single-threaded (OMP_THREAD_LIMIT=1 in the environment pytesseract hands the
executable, only for the call: `single_threaded`), and the pipeline parallelises across documents
instead, which is faster on a busy machine than OpenMP threads contending inside every page.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np
import pytesseract
from PIL import Image

from roi_assets.documents.page_text import PageText

PAGE_SEGMENTATION = "--oem 1 --psm 3"
# Tesseract's extra noise removal in its layout analysis, for pages whose paper is visibly noisy:
# on heavily damaged simulated scans it cut the error rate by about a quarter.
HEAVY_NOISE_OPTION = "-c textord_heavy_nr=1"
# OSD reads a page scaled to this resolution: orientation needs letter shapes, not detail.
OSD_DPI = 150


@contextmanager
def single_threaded() -> Iterator[None]:
    """Tesseract single-threaded for the calls within, unless the operator set OMP_THREAD_LIMIT.
    The limit is in the environment only around the call: left there, it would also cap torch's
    threads in the same process (`churn.sequence_model.respect_openmp_thread_limit`)."""
    if "OMP_THREAD_LIMIT" in os.environ:
        yield
        return
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        yield
    finally:
        os.environ.pop("OMP_THREAD_LIMIT", None)


def _handover(page: np.ndarray) -> Image.Image:
    image = Image.fromarray(page)
    # pytesseract hands the page over as a temporary file in the image's format, PNG by default;
    # compressing a noisy 200-dpi scan costs about 0.4 s of CPU, an uncompressed TIFF almost
    # nothing. (Not BMP: its header claims 96 dpi.) The resolution is passed as `--dpi`.
    image.format = "TIFF"
    return image


def tesseract_config(dpi: int, heavy_noise: bool = False) -> str:
    """The command-line options a page of this resolution is read with."""
    config = f"{PAGE_SEGMENTATION} --dpi {int(dpi)}"
    return f"{config} {HEAVY_NOISE_OPTION}" if heavy_noise else config


def tesseract_page(page: np.ndarray, dpi: int, *, heavy_noise: bool = False) -> PageText:
    """Text of one grayscale page (already cleaned up) in Tesseract's reading order, and its
    character-weighted word confidence."""
    with single_threaded():
        data = pytesseract.image_to_data(
            _handover(page),
            config=tesseract_config(dpi, heavy_noise),
            output_type=pytesseract.Output.DICT,
        )
    lines: dict[tuple[int, int, int], list[str]] = {}
    words: list[tuple[str, float]] = []
    for i, word in enumerate(data["text"]):
        confidence = float(data["conf"][i])
        if confidence < 0 or not word.strip():
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        lines.setdefault(key, []).append(word)
        words.append((word, confidence))
    parts: list[str] = []
    previous: tuple[int, int] | None = None
    for (block, paragraph, _), line_words in lines.items():
        if previous is not None and (block, paragraph) != previous:
            parts.append("")  # a blank line between paragraphs, as image_to_string writes them
        parts.append(" ".join(line_words))
        previous = (block, paragraph)
    return PageText.from_words("\n".join(parts), words)


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
    try:
        with single_threaded():
            osd = pytesseract.image_to_osd(
                _handover(small),
                config=f"--psm 0 --dpi {round(dpi * scale)}",
                output_type=pytesseract.Output.DICT,
            )
    except pytesseract.TesseractError:  # "Too few characters": nothing to orient by
        return None
    return Orientation(int(osd["rotate"]) % 360, float(osd["orientation_conf"]), str(osd["script"]))


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
