"""Page clean-up before OCR: deskew, denoise, contrast enhancement, binarisation, form furniture.

Each step is a plain function on an 8-bit grayscale page (white paper, dark ink) so it can be
timed and judged on its own; `preprocess` chains a preset's steps and reports the time each took.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

MAX_SKEW_DEGREES = 5.0
_SKEW_WIDTH = 800  # pixels; the skew search runs on a page scaled down to this width


def _ink_mask(gray: np.ndarray) -> np.ndarray:
    """1 where Otsu's threshold calls a pixel ink (dark), else 0."""
    _, mask = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return mask


def _rotate(image: np.ndarray, degrees: float, border: float, interpolation: int) -> np.ndarray:
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(
        image,
        matrix,
        (w, h),
        flags=interpolation,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )


def estimate_skew(gray: np.ndarray, max_degrees: float = MAX_SKEW_DEGREES) -> float:
    """The page's skew in degrees (positive: counter-clockwise), within ±`max_degrees`.

    Projection-profile search, written here because neither OpenCV nor scikit-image ships a
    document skew estimator: when text lines run horizontally, the row sums of the ink alternate
    sharply between lines and gaps, so the rotation that maximises the variance of the row-sum
    profile straightens the page. Coarse steps of 0.5° first, then 0.05° around the best.
    """
    scale = min(1.0, _SKEW_WIDTH / gray.shape[1])
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ys, xs = np.nonzero(_ink_mask(small))
    if len(ys) < 50:  # a blank page has no skew to measure
        return 0.0
    ys = ys.astype(np.float64)
    xs = xs.astype(np.float64) - small.shape[1] / 2
    offset = small.shape[1]  # keeps projected rows non-negative for bincount

    def sharpness(degrees: float) -> float:
        # rows the ink pixels land on once the page is rotated back by `degrees`
        radians = np.deg2rad(degrees)
        rows = np.rint(ys * np.cos(radians) + xs * np.sin(radians)).astype(np.int64) + offset
        return float(np.var(np.bincount(rows)))

    coarse = np.arange(-max_degrees, max_degrees + 1e-9, 0.5)
    best = float(coarse[np.argmax([sharpness(a) for a in coarse])])
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05)
    return float(fine[np.argmax([sharpness(a) for a in fine])])


def paper_level(gray: np.ndarray) -> float:
    """The gray level of the paper: most pixels of a document page are background."""
    return float(np.median(gray[::4, ::4]))


def deskew(gray: np.ndarray, degrees: float | None = None) -> np.ndarray:
    """Rotate the page level; `degrees` defaults to `estimate_skew(gray)`."""
    angle = estimate_skew(gray) if degrees is None else degrees
    if abs(angle) < 0.05:
        return gray
    return _rotate(gray, -angle, paper_level(gray), cv2.INTER_CUBIC)


def remove_rules(gray: np.ndarray, min_length_in: float = 0.3, dpi: int = 200) -> np.ndarray:
    """Erase thin ruled lines (table grids, signature and heading rules), keep text and solid bands.

    Long thin runs of ink are found by morphological opening with a long flat kernel; runs that
    belong to something thick (a dark title band) are kept. OCR reads grids as '|' and '_' and
    follows them into column-by-column reading order; without them a table reads row by row.
    """
    length = max(15, int(min_length_in * dpi))
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    rules = np.zeros_like(ink)
    for long_kernel, thick_kernel in (((length, 1), (1, 9)), ((1, length), (9, 1))):
        lines = cv2.morphologyEx(
            ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, long_kernel)
        )
        thick = cv2.morphologyEx(
            lines, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, thick_kernel)
        )
        thick = cv2.dilate(thick, np.ones((5, 5), np.uint8))
        rules |= lines & ~thick
    rules = cv2.dilate(rules, np.ones((3, 3), np.uint8))
    cleaned = gray.copy()
    cleaned[rules > 0] = int(paper_level(gray))
    return cleaned


def remove_checkboxes(gray: np.ndarray, dpi: int = 200) -> np.ndarray:
    """Erase tick boxes (small square outlines, ticked or not) so OCR does not read them as 'O'.

    A box is an ink blob about the size of a capital letter whose outline fills its bounding
    square (letters such as O, D or 0 are rounder) and whose inside is mostly paper.
    """
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(ink, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    low, high = 0.07 * dpi, 0.25 * dpi
    cleaned = gray.copy()
    paper = int(paper_level(gray))
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if not (low <= w <= high and low <= h <= high and 0.8 <= w / h <= 1.25):
            continue
        if cv2.contourArea(contour) < 0.88 * w * h:
            continue
        if np.count_nonzero(ink[y : y + h, x : x + w]) > 0.7 * w * h:
            continue
        cleaned[max(0, y - 2) : y + h + 2, max(0, x - 2) : x + w + 2] = paper
    return cleaned


def despeckle(gray: np.ndarray) -> np.ndarray:
    """3x3 median: removes dust and salt-and-pepper specks, keeps stroke edges."""
    return cv2.medianBlur(gray, 3)


def denoise(gray: np.ndarray, strength: float = 12.0) -> np.ndarray:
    """Non-local means (OpenCV): averages similar patches, so sensor noise fades but text stays."""
    return cv2.fastNlMeansDenoising(
        gray, None, h=strength, templateWindowSize=7, searchWindowSize=15
    )


def stretch_contrast(gray: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.0) -> np.ndarray:
    """Map the page's ink and paper percentiles to black and white (faint and washed-out scans)."""
    low, high = np.percentile(gray[::2, ::2], [low_pct, high_pct])
    if high - low < 1:
        return gray
    lut = np.clip((np.arange(256, dtype=np.float32) - low) * 255.0 / (high - low), 0, 255)
    return cv2.LUT(gray, lut.astype(np.uint8))


def clahe(gray: np.ndarray, clip_limit: float = 2.0, tile: int = 8) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation: local contrast for uneven scans."""
    return cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tile, tile)).apply(gray)


def binarize_otsu(gray: np.ndarray) -> np.ndarray:
    """One global threshold chosen by Otsu's method; 0 ink, 255 paper."""
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return binary


def binarize_sauvola(gray: np.ndarray, window: int = 31, k: float = 0.2) -> np.ndarray:
    """Sauvola's local threshold T = m * (1 + k * (s / 128 - 1)); 0 ink, 255 paper.

    Computed with OpenCV box filters for the local mean m and deviation s: scikit-image's
    `threshold_sauvola` gives the same threshold but takes about a second on a 200-dpi page.
    """
    image = gray.astype(np.float32)
    mean = cv2.boxFilter(image, -1, (window, window), borderType=cv2.BORDER_REFLECT)
    mean_sq = cv2.boxFilter(image * image, -1, (window, window), borderType=cv2.BORDER_REFLECT)
    std = np.sqrt(np.maximum(mean_sq - mean * mean, 0))
    threshold = mean * (1 + k * (std / 128.0 - 1))
    return np.where(image > threshold, 255, 0).astype(np.uint8)


Step = Callable[[np.ndarray], np.ndarray]

# Chosen by measurement on simulated scans at the four damage levels (benchmarks/ocr.py):
# straightening, a 3x3 median and removing rules and tick boxes is what helps Tesseract. CLAHE,
# Sauvola binarisation, contrast stretching, non-local-means denoising and upscaling each raised
# the error rate on damaged pages or cost seconds per page, so they are available as steps but in
# no preset. The two presets differ in how Tesseract then reads the page (`tesseract.PAGE_MODES`).
CLEAN_UP: tuple[tuple[str, Step], ...] = (
    ("deskew", deskew),
    ("despeckle", despeckle),
    ("remove_rules", remove_rules),
    ("remove_checkboxes", remove_checkboxes),
)
PRESETS: dict[str, tuple[tuple[str, Step], ...]] = {
    "none": (),
    "standard": CLEAN_UP,
    "strong": CLEAN_UP,
}


@dataclass(frozen=True)
class Preprocessed:
    image: np.ndarray
    preset: str
    step_seconds: dict[str, float]


def preprocess(gray: np.ndarray, preset: str = "standard") -> Preprocessed:
    """Run a preset's steps in order, timing each."""
    timings: dict[str, float] = {}
    image = gray
    for name, step in PRESETS[preset]:
        start = time.perf_counter()
        image = step(image)
        timings[name] = time.perf_counter() - start
    return Preprocessed(image, preset, timings)
