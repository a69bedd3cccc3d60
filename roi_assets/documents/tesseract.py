"""Tesseract through pytesseract: one call per page gives the text and every word's confidence.

`image_to_data` returns each word with its block, paragraph and line numbers, so the page text is
rebuilt from it rather than running Tesseract a second time for `image_to_string`.

Tesseract runs single-threaded (OMP_THREAD_LIMIT=1): pytesseract hands the process environment
to the tesseract executable, and the pipeline parallelises across documents instead, which is
faster on a busy machine than OpenMP threads contending inside every page.
"""

from __future__ import annotations

import os

import numpy as np
import pytesseract
from PIL import Image

from roi_assets.documents.page_text import PageText

# Page segmentation per preprocessing preset (LSTM engine in both). Measured on simulated scans:
# automatic segmentation (psm 3) splits form tables into columns and reads them column by column;
# one uniform block (psm 6) reads good scans best (CER 0.1-0.3 % up to medium damage); on heavily
# damaged scans it loses lines to noise, where one column of variable-size text (psm 4) halves
# the error (about 2.5 % against 6 %).
PAGE_MODES = {"none": "--oem 1 --psm 3", "standard": "--oem 1 --psm 6", "strong": "--oem 1 --psm 4"}


def limit_tesseract_threads() -> None:
    """Make the tesseract executable single-threaded unless the operator chose otherwise."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def tesseract_page(page: np.ndarray, preset: str = "standard") -> PageText:
    """Text of one grayscale page (already cleaned up by `preset`) and its word confidence."""
    limit_tesseract_threads()
    image = Image.fromarray(page)
    # pytesseract hands the page over as a temporary file in the image's format, PNG by default;
    # compressing a noisy 200-dpi scan costs about 0.4 s of CPU, an uncompressed TIFF almost
    # nothing. (Not BMP: its header claims 96 dpi, which changes Tesseract's layout analysis.)
    image.format = "TIFF"
    data = pytesseract.image_to_data(
        image, config=PAGE_MODES[preset], output_type=pytesseract.Output.DICT
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
