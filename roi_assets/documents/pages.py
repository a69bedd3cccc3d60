"""Page images and PDF text layers from accepted document files.

Everything downstream works on 8-bit grayscale page arrays (white paper, dark ink). Image files
give one page per frame (multi-page TIFFs included), with the camera's EXIF orientation applied;
PDFs are rendered with PDFium at the requested resolution. A PDF exported by software already
holds its text, which is read directly rather than OCR'd.

Each page also carries its resolution (`ScannedPage.dpi`), because Tesseract sizes its layout
analysis by it: a PDF page has the resolution it was rendered at; an image file the one it
declares, unless that is missing or implausible (many tools write 72 or 96 dpi into any image),
in which case it is estimated from the page's long side as a letter or A4 sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageOps

DEFAULT_DPI = 200
# A page whose text layer holds fewer letters and digits than this is treated as a scan: scanners
# often stamp a date or a page number into an otherwise empty text layer.
MIN_TEXT_LAYER_CHARS = 40
# The long side of the paper documents arrive on (US letter 11 in, A4 11.7 in), used to estimate
# the resolution of an image that does not declare a plausible one.
PAPER_LONG_SIDE_IN = 11.0
PLAUSIBLE_PAGE_INCHES = (3.0, 17.0)  # the long side of anything from a receipt to a legal sheet


@dataclass(frozen=True)
class ScannedPage:
    image: np.ndarray  # 8-bit grayscale, white paper
    dpi: int  # pixels per inch of `image`


def page_resolution(image: np.ndarray, declared: float | None) -> int:
    """The declared resolution when it makes the page a plausible size, else an estimate."""
    long_side = max(image.shape[:2])
    if declared and declared > 0:
        inches = long_side / declared
        if PLAUSIBLE_PAGE_INCHES[0] <= inches <= PLAUSIBLE_PAGE_INCHES[1]:
            return round(declared)
    return max(50, round(long_side / PAPER_LONG_SIDE_IN))


def is_pdf(path: Path) -> bool:
    return Path(path).suffix.lower() == ".pdf"


def _declared_dpi(image: Image.Image) -> float | None:
    dpi = image.info.get("dpi")
    if isinstance(dpi, tuple) and dpi:
        return float(dpi[0])
    return None


def _image_pages(path: Path, max_pages: int | None) -> list[ScannedPage]:
    pages = []
    with Image.open(path) as image:
        for index in range(int(getattr(image, "n_frames", 1))):
            if max_pages is not None and index >= max_pages:
                break
            image.seek(index)
            frame = ImageOps.exif_transpose(image) if index == 0 else image
            gray = np.asarray(frame.convert("L"))
            pages.append(ScannedPage(gray, page_resolution(gray, _declared_dpi(frame))))
    return pages


def _pdf_pages(path: Path, dpi: int, max_pages: int | None) -> list[ScannedPage]:
    pdf = pdfium.PdfDocument(path)
    try:
        count = len(pdf) if max_pages is None else min(len(pdf), max_pages)
        pages = []
        for index in range(count):
            bitmap = pdf[index].render(scale=dpi / 72, grayscale=True)
            pages.append(ScannedPage(np.array(bitmap.to_pil().convert("L")), dpi))
        return pages
    finally:
        pdf.close()


def load_scanned_pages(
    path: Path, dpi: int = DEFAULT_DPI, max_pages: int | None = None
) -> list[ScannedPage]:
    """Each page's grayscale image and resolution (PDFs rendered at `dpi`)."""
    path = Path(path)
    if is_pdf(path):
        return _pdf_pages(path, dpi, max_pages)
    return _image_pages(path, max_pages)


def load_pages(path: Path, dpi: int = DEFAULT_DPI, max_pages: int | None = None) -> list:
    """Grayscale uint8 arrays, one per page (the first `max_pages` when given)."""
    return [page.image for page in load_scanned_pages(path, dpi, max_pages)]


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
