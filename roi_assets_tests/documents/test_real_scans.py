"""Real scans (OCRmyPDF's test pages, see real_scans/README.md): the product reads a two-column
page column after column, turns an upside-down page upright, keeps the resolution a scan declares,
and sends a clean real scan down the standard route."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from roi_assets.documents.ocr import choose_engine, ocr_resolution, read_pages
from roi_assets.documents.pages import ScannedPage, load_scanned_pages, page_resolution
from roi_assets.documents.quality import score_quality

REAL_SCANS = Path(__file__).parent / "real_scans"
NO_AWS: dict[str, str] = {}


@pytest.fixture(scope="module")
def linn_page() -> ScannedPage:
    """The LinnSequencer brochure page rendered at 200 dpi: a one-column head, a two-column
    middle and a one-column foot."""
    return load_scanned_pages(REAL_SCANS / "linn.pdf", 200)[0]


def _band(page: ScannedPage, top: float, bottom: float) -> np.ndarray:
    height = page.image.shape[0]
    return np.ascontiguousarray(page.image[int(top * height) : int(bottom * height)])


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_a_two_column_page_is_read_column_after_column(linn_page):
    middle = ScannedPage(_band(linn_page, 0.38, 0.70), linn_page.dpi)
    text = _flat(read_pages([middle], environ=NO_AWS).pages[0].text)
    # left column top to bottom, then the right column: reading across the gutter would put
    # "simply use LOCATE" (right column, first line) right after "Recording a Sequence"
    in_order = [
        "Recording a Sequence",
        "sustain pedal, and program changes!",
        "Editing",
        "points within a sequence,",
        "simply use LOCATE",
        "Creating a Song",
        "Composition Without Compromise",
        "for a demonstration!",
    ]
    positions = [text.find(phrase) for phrase in in_order]
    assert -1 not in positions, [p for p, i in zip(in_order, positions, strict=True) if i < 0]
    assert positions == sorted(positions)


def test_an_upside_down_page_is_turned_upright_before_it_is_read(linn_page):
    bullets = _band(linn_page, 0.18, 0.37)
    read = read_pages([ScannedPage(np.rot90(bullets, 2).copy(), linn_page.dpi)], environ=NO_AWS)
    text = _flat(read.pages[0].text)
    assert read.rotations == (180,)
    assert "One or all tracks may be TRANSPOSED at the touch of a key." in text
    assert read.pages[0].confidence > 0.8


def test_a_scan_keeps_the_resolution_it_declares_unless_it_is_implausible():
    letter_at_300 = np.zeros((3300, 2550), np.uint8)
    assert page_resolution(letter_at_300, 300.0) == 300
    assert page_resolution(letter_at_300, 72.0) == 300  # 72 dpi would make it a 46-inch sheet
    assert page_resolution(letter_at_300, None) == 300
    assert page_resolution(np.zeros((1100, 850), np.uint8), 100.0) == 100
    # the brochure's PNG declares no resolution: its size says 300 dpi
    assert load_scanned_pages(REAL_SCANS / "linn.png")[0].dpi == 300


def test_a_low_resolution_scan_is_up_sampled_before_ocr():
    page = ocr_resolution(ScannedPage(np.full((1100, 850), 255, np.uint8), 100))
    assert (page.dpi, page.image.shape) == (200, (2200, 1700))
    kept = ScannedPage(np.full((2200, 1700), 255, np.uint8), 200)
    assert ocr_resolution(kept) is kept


@pytest.mark.parametrize("name", ["linn.png", "linn.pdf", "ccitt.pdf", "skew.pdf"])
def test_a_clean_real_scan_scores_high_and_takes_the_standard_route(name):
    page = load_scanned_pages(REAL_SCANS / name, 200)[0]
    quality = score_quality(page.image).score
    assert quality >= 0.8
    assert choose_engine(quality, textract_available=False).preset == "standard"
