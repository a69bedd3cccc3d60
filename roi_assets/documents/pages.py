"""Page images and PDF text layers from accepted document files.

Everything downstream works on 8-bit grayscale page arrays (white paper, dark ink). Image files
give one page per frame (multi-page TIFFs included), with the camera's EXIF orientation applied;
PDFs are rendered with PDFium at the requested resolution. A PDF exported by software already
holds its text, which is read directly rather than OCR'd.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageOps

DEFAULT_DPI = 200
# A page whose text layer holds fewer letters and digits than this is treated as a scan: scanners
# often stamp a date or a page number into an otherwise empty text layer.
MIN_TEXT_LAYER_CHARS = 40


def is_pdf(path: Path) -> bool:
    return Path(path).suffix.lower() == ".pdf"


def _image_pages(path: Path, max_pages: int | None) -> list[np.ndarray]:
    pages = []
    with Image.open(path) as image:
        for index in range(int(getattr(image, "n_frames", 1))):
            if max_pages is not None and index >= max_pages:
                break
            image.seek(index)
            frame = ImageOps.exif_transpose(image) if index == 0 else image
            pages.append(np.asarray(frame.convert("L")))
    return pages


def _pdf_pages(path: Path, dpi: int, max_pages: int | None) -> list[np.ndarray]:
    pdf = pdfium.PdfDocument(path)
    try:
        count = len(pdf) if max_pages is None else min(len(pdf), max_pages)
        pages = []
        for index in range(count):
            bitmap = pdf[index].render(scale=dpi / 72, grayscale=True)
            pages.append(np.array(bitmap.to_pil().convert("L")))
        return pages
    finally:
        pdf.close()


def load_pages(path: Path, dpi: int = DEFAULT_DPI, max_pages: int | None = None) -> list:
    """Grayscale uint8 arrays, one per page (the first `max_pages` when given)."""
    path = Path(path)
    if is_pdf(path):
        return _pdf_pages(path, dpi, max_pages)
    return _image_pages(path, max_pages)


def read_text_layer(path: Path) -> list[str]:
    """Each page's embedded text (empty strings for a scan); an empty list for non-PDFs."""
    if not is_pdf(path):
        return []
    pdf = pdfium.PdfDocument(path)
    try:
        texts = []
        for page in pdf:
            text = page.get_textpage().get_text_bounded()
            texts.append(text.replace("\r\n", "\n").replace("\r", "\n"))
        return texts
    finally:
        pdf.close()


def has_usable_text_layer(page_texts: list[str], min_chars: int = MIN_TEXT_LAYER_CHARS) -> bool:
    """True when every page's text layer carries real text, so no page needs OCR."""
    return bool(page_texts) and all(
        sum(c.isalnum() for c in text) >= min_chars for text in page_texts
    )
