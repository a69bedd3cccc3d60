"""Tesseract in the process: OSD's answer is the turn that makes a page upright, and threads
reading at once each use their own engine and read what one thread alone reads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest

from roi_assets.documents.pages import ScannedPage, load_scanned_pages
from roi_assets.documents.tesseract import page_orientation, rotate_upright, tesseract_page

REAL_SCANS = Path(__file__).parent / "real_scans"


@pytest.fixture(scope="module")
def bullets() -> ScannedPage:
    """The bullet list of the LinnSequencer brochure page at 200 dpi: lines of plain text."""
    page = load_scanned_pages(REAL_SCANS / "linn.pdf", 200)[0]
    height = page.image.shape[0]
    return ScannedPage(
        np.ascontiguousarray(page.image[int(0.18 * height) : int(0.37 * height)]), page.dpi
    )


@pytest.mark.parametrize(
    ("turned_by", "turn_back"),
    [(cv2.ROTATE_90_CLOCKWISE, 270), (cv2.ROTATE_90_COUNTERCLOCKWISE, 90)],
)
def test_osd_gives_the_clockwise_turn_that_makes_a_page_upright(bullets, turned_by, turn_back):
    turned = cv2.rotate(bullets.image, turned_by)

    orientation = page_orientation(turned, bullets.dpi)

    assert orientation is not None
    assert orientation.rotate == turn_back
    assert np.array_equal(rotate_upright(turned, orientation.rotate), bullets.image)


def test_a_blank_page_has_no_orientation():
    assert page_orientation(np.full((600, 400), 255, np.uint8), 200) is None


def test_pages_read_in_threads_at_once_read_as_in_one_thread(bullets):
    pages = [bullets.image, np.rot90(bullets.image, 2).copy(), bullets.image[::2, ::2].copy()]
    alone = [tesseract_page(page, bullets.dpi).text for page in pages]

    with ThreadPoolExecutor(len(pages)) as threads:
        together = list(threads.map(lambda page: tesseract_page(page, bullets.dpi).text, pages))

    assert together == alone
    assert "One or all tracks may be TRANSPOSED" in " ".join(alone[0].split())
