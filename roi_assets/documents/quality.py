"""A 0..1 quality score of a page image, from the image alone, that routes it to an OCR engine.

Four measurements, each mapped to 0..1 and combined by a weighted geometric mean so that one bad
property pulls the score down however good the others are. The page is first scaled to a fixed
width (`MEASURE_WIDTH`, about 100 dpi for US letter) so the score does not depend on the scan
resolution, and measuring there keeps the score cheap.

- sharpness: variance of the Laplacian around the text strokes, after a 3x3 median (so sensor
  noise does not pass for detail), per unit of squared ink contrast (so faint print does not
  count as blur twice);
- contrast: the gap between the mean ink and mean paper levels, ink told from paper by Otsu's
  threshold held at least a few noise sigmas below the paper (`preprocess.split_ink`), so that a
  faint noisy page's noise is not counted as ink;
- noise: the standard deviation of what a 5x5 median removes, on paper pixels away from text;
- skew: the angle from the projection-profile search of `preprocess`.

The ranges of each mapping were read off simulated scans at the four damage levels (clean pages
score above 0.9, light damage mostly above 0.8, medium and heavy damage below it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from roi_assets.documents.preprocess import estimate_skew, split_ink

MEASURE_WIDTH = 850

WEIGHTS = {"sharpness": 0.3, "contrast": 0.3, "noise": 0.3, "skew": 0.1}
# (bad, good) ends of each measurement's 0..1 mapping, from the simulated damage levels
SHARPNESS_RANGE = (0.1, 0.4)  # clean 0.35-0.5, heavy 0.15-0.3
CONTRAST_RANGE = (0.05, 0.55)  # clean 0.7-0.8, light 0.45-0.6, medium 0.25-0.4, heavy 0.1-0.2
NOISE_RANGE = (6.0, 1.0)  # clean < 0.3, light 1.3-1.9, medium 2.3-3.2, heavy 4-5.4
SKEW_RANGE = (5.0, 0.5)  # degrees


@dataclass(frozen=True)
class QualityReport:
    score: float  # 0..1, higher is better
    sharpness: float  # normalised Laplacian variance (raw measurement)
    contrast: float  # ink-to-paper gap as a share of the 0..255 range
    noise_sigma: float  # gray levels
    skew_degrees: float
    ink_fraction: float  # share of the page that is ink: how much the page has to say
    otsu_margin: float  # Otsu's threshold below the paper in paper noise sigmas (low: it failed)
    component_scores: dict[str, float]

    def as_dict(self) -> dict:
        return asdict(self)


def _ramp(value: float, bad: float, good: float) -> float:
    """0 at `bad`, 1 at `good`, linear in between (either direction)."""
    return float(np.clip((value - bad) / (good - bad), 0.0, 1.0))


def measure_contrast(gray: np.ndarray, ink_mask: np.ndarray) -> float:
    """Ink-to-paper contrast (0..1): the gap between the mean ink and mean paper levels."""
    ink = gray[ink_mask == 1]
    paper = gray[ink_mask == 0]
    if ink.size == 0 or paper.size == 0:
        return 0.0
    return float(paper.mean() - ink.mean()) / 255.0


def measure_noise(gray: np.ndarray, ink_mask: np.ndarray) -> float:
    """Noise sigma (gray levels) on paper pixels at least four pixels away from any ink."""
    far_from_ink = cv2.dilate(ink_mask, np.ones((9, 9), np.uint8)) == 0
    if not far_from_ink.any():
        return 0.0
    residual = gray.astype(np.float32) - cv2.medianBlur(gray, 5).astype(np.float32)
    return float(residual[far_from_ink].std())


def measure_sharpness(gray: np.ndarray, ink_mask: np.ndarray, contrast: float) -> float:
    """Laplacian variance around the strokes, per unit of squared ink contrast."""
    laplacian = cv2.Laplacian(cv2.medianBlur(gray, 3), cv2.CV_32F)
    near_ink = cv2.dilate(ink_mask, np.ones((3, 3), np.uint8)) == 1
    if not near_ink.any() or contrast <= 0:
        return 0.0
    return float(laplacian[near_ink].var()) / (contrast * 255.0) ** 2


def score_quality(gray: np.ndarray) -> QualityReport:
    """Measure a grayscale page and combine the measurements into one score."""
    scale = MEASURE_WIDTH / gray.shape[1]
    page = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    split = split_ink(page)
    ink_mask = split.mask
    contrast = measure_contrast(page, ink_mask)
    noise = measure_noise(page, ink_mask)
    sharpness = measure_sharpness(page, ink_mask, contrast)
    skew = estimate_skew(page)
    components = {
        "sharpness": _ramp(sharpness, *SHARPNESS_RANGE),
        "contrast": _ramp(contrast, *CONTRAST_RANGE),
        "noise": _ramp(noise, *NOISE_RANGE),
        "skew": _ramp(abs(skew), *SKEW_RANGE),
    }
    # weighted geometric mean; a floor keeps one zero component from erasing the others
    log_score = sum(w * np.log(max(components[k], 0.02)) for k, w in WEIGHTS.items())
    ink = float(ink_mask.mean())
    return QualityReport(
        float(np.exp(log_score)),
        sharpness,
        contrast,
        noise,
        skew,
        ink,
        split.otsu_margin,
        components,
    )
