"""Page clean-up before OCR: deskew, denoise, contrast enhancement, binarisation, form furniture.

Each step is a plain function on an 8-bit grayscale page (white paper, dark ink) so it can be
timed and judged on its own. Which steps a page gets is decided by the page's own measurements
(`plan_clean_up`, from the quality score's skew, noise and Otsu margin), not by a fixed preset: a
clean 300-dpi scan is only relieved of its form furniture, a noisy crooked one is straightened and
despeckled.
`preprocess` runs a list of steps and reports the time each took.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

MAX_SKEW_DEGREES = 5.0
_SKEW_WIDTH = 800  # pixels; the skew search runs on a page scaled down to this width


# A pixel counts as ink only this many of the paper's noise sigmas below the paper level (beyond
# 3 sigmas lies 0.1 % of Gaussian noise; the emptiest simulated page is 0.3 % ink). Measured at
# 850 pixels wide, Otsu's threshold lay 81-113 sigmas below the paper on the real scans, 23-58
# on light and 9-20 on medium simulated damage, 2.0-6.1 on heavy damage, and 0.3-0.7 on the
# faint heavy pages with a few lines, where it parts the paper's own noise: a third of those
# pages came out as ink, their noise read 0.0 and their skew 0 instead of 3 degrees. The limit
# leaves the measurements of every other page as they were, bar five heavy pages (margins 2.0-2.9)
# whose noise now reads up to 0.5 higher, with unchanged plans.
INK_FROM_SIGMAS = 3.0


def paper_noise(gray: np.ndarray) -> tuple[float, float]:
    """The paper's gray level and the spread of its noise: the median of a sample of the page
    (which is mostly paper) and the median absolute deviation around it, scaled to a Gaussian
    sigma and at least one gray level (the page holds whole levels only)."""
    level = paper_level(gray)
    deviation = np.abs(gray[::4, ::4].astype(np.float32) - level)
    return level, max(1.4826 * float(np.median(deviation)), 1.0)


@dataclass(frozen=True)
class InkSplit:
    mask: np.ndarray  # 1 where a pixel is ink (dark), else 0
    otsu_margin: float  # Otsu's threshold below the paper level, in the paper's noise sigmas


def split_ink(gray: np.ndarray) -> InkSplit:
    """Ink told from paper by Otsu's threshold, but never closer to the paper than
    `INK_FROM_SIGMAS` of its noise: on a faint, noisy page with a few lines of text Otsu parts
    the paper's own noise, which blinds the skew and noise measurements (and the form furniture
    search) to exactly the pages that need the clean-up most."""
    otsu, mask = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    paper, sigma = paper_noise(gray)
    margin = (paper - otsu) / sigma
    if margin < INK_FROM_SIGMAS:
        mask = (gray <= paper - INK_FROM_SIGMAS * sigma).astype(np.uint8)
    return InkSplit(mask, margin)


def ink_mask(gray: np.ndarray) -> np.ndarray:
    """1 where a pixel is ink (dark), else 0 (see `split_ink`)."""
    return split_ink(gray).mask


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
    ys, xs = np.nonzero(ink_mask(small))
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
    ink = ink_mask(gray) * np.uint8(255)
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
    ink = ink_mask(gray) * np.uint8(255)
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


def smooth(gray: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Gaussian blur: evens out the grain a median leaves on ink and paper before Tesseract's
    Otsu threshold, so heavy noise does not break strokes or add specks to letters."""
    return cv2.GaussianBlur(gray, (0, 0), sigma)


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


def binarize_below_paper(gray: np.ndarray, sigmas: float = 4.0) -> np.ndarray:
    """Ink (0) where a pixel lies more than `sigmas` of the paper's noise below the paper level,
    paper (255) elsewhere: for a page whose ink Otsu's threshold cannot find, which Tesseract
    would otherwise binarise with Otsu into an empty page."""
    paper, sigma = paper_noise(gray)
    return np.where(gray <= paper - sigmas * sigma, 0, 255).astype(np.uint8)


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


Step = Callable[[np.ndarray, int], np.ndarray]  # (page, its dpi) -> page

# Every clean-up step by name, each taking the page and its resolution. Which ones a page gets is
# decided by its own measurements (`plan_clean_up`); benchmarks/ocr.py measures each step on its
# own, switched on and off against that plan, at every damage level and on real scans.
STEPS: dict[str, Step] = {
    "deskew": lambda gray, dpi: deskew(gray),
    "despeckle": lambda gray, dpi: despeckle(gray),
    "smooth": lambda gray, dpi: smooth(gray, sigma=dpi / 200),  # 1 pixel at 200 dpi
    "denoise": lambda gray, dpi: denoise(gray),
    "stretch_contrast": lambda gray, dpi: stretch_contrast(gray),
    "clahe": lambda gray, dpi: clahe(gray),
    "binarize_otsu": lambda gray, dpi: binarize_otsu(gray),
    "binarize_sauvola": lambda gray, dpi: binarize_sauvola(gray),
    "binarize_below_paper": lambda gray, dpi: binarize_below_paper(gray),
    "remove_rules": lambda gray, dpi: remove_rules(gray, dpi=dpi),
    "remove_checkboxes": lambda gray, dpi: remove_checkboxes(gray, dpi=dpi),
}

# Thresholds on the quality score's measurements (`quality.QualityReport`, taken at 850 pixels
# wide), chosen with benchmarks/ocr.py:
DESKEW_FROM_DEGREES = 0.2  # below this Tesseract's own line finding copes
DESPECKLE_FROM_NOISE = 1.0  # clean scans measure < 0.3; a 3x3 median only blurs them
HEAVY_NOISE_FROM = 3.5  # heavy damage measures 4-5.4: a second median, a Gaussian of 1 pixel at
# 200 dpi and Tesseract's noise mode. The Gaussian after the second median took simulated heavy
# pages (seed 5) from 4.09 % to 3.35 % CER and 18 more (seeds 6, 7) from 7.62 % to 6.79 %;
# tried on the same pages and not kept: a 5x5 second median 3.53 % / 8.11 %, a 2x2 grey closing
# 3.34 % / 7.51 % (one page's layout fell apart), a 5-pixel bilateral filter 3.40 % / 6.93 %.
FAINT_INK_BELOW_MARGIN = 1.5  # Otsu's margin (`split_ink`) on the faint heavy pages with a few
# lines measured 0.34-0.67 sigmas, 2.0-6.1 on the other heavy pages. After the heavy clean-up,
# Tesseract's own Otsu still read one of those three pages (seeds 5-7) as empty (100 %, 1.3 %,
# 6.0 % CER); binarising at 4 sigmas below the paper read them at 2.0 %, 1.0 % and 6.4 % (with a
# 3x3 median after it 2.0 %, 1.3 %, 7.4 %; at 3 sigmas and the median 8.2 %, 2.7 %, 10.2 %; at 5
# sigmas and the median 2.0 %, 1.7 %, 7.4 %). Binarising every heavy page instead took the 28
# from 3.7 % to 10.4 % CER (22 of the other 25 got worse), so it stays with the pages whose
# Otsu threshold fails.
# Measured and not applied to any page (each raised the error rate where it was tried, see
# docs/benchmarks.md): non-local-means denoising, contrast stretching, CLAHE and binarisation by
# Otsu's or Sauvola's threshold (Tesseract binarises the page itself with Otsu's method).
FORM_FURNITURE = ("remove_rules", "remove_checkboxes")


@dataclass(frozen=True)
class CleanUpPlan:
    """The clean-up steps for one page and whether Tesseract should also remove heavy noise."""

    steps: tuple[str, ...]
    heavy_noise: bool = False


def plan_clean_up(skew_degrees: float, noise_sigma: float, otsu_margin: float) -> CleanUpPlan:
    """The steps that help a page with these measurements (see the thresholds above)."""
    # straighten, clean the paper, then erase the form furniture (found on clean strokes)
    steps: list[str] = []
    if abs(skew_degrees) >= DESKEW_FROM_DEGREES:
        steps.append("deskew")
    if noise_sigma >= DESPECKLE_FROM_NOISE:
        steps.append("despeckle")
    steps += FORM_FURNITURE
    heavy = noise_sigma >= HEAVY_NOISE_FROM
    if heavy:
        steps.append("despeckle")  # a second 3x3 pass, after the rules are gone
        steps.append("smooth")
    if otsu_margin < FAINT_INK_BELOW_MARGIN:
        steps.append("binarize_below_paper")  # last: on the cleaned page's paper and noise
    return CleanUpPlan(tuple(steps), heavy_noise=heavy)


@dataclass(frozen=True)
class Preprocessed:
    image: np.ndarray
    steps: tuple[str, ...]
    step_seconds: dict[str, float]


def preprocess(gray: np.ndarray, steps: Sequence[str], dpi: int) -> Preprocessed:
    """Run the named steps in the given order, timing each (a repeated step adds its time)."""
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        raise ValueError(f"unknown clean-up steps {unknown}; known: {sorted(STEPS)}")
    timings: dict[str, float] = {}
    image = gray
    for name in steps:
        start = time.perf_counter()
        image = STEPS[name](image, dpi)
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
    return Preprocessed(image, tuple(steps), timings)
