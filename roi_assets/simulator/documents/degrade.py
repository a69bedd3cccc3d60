"""Scanner and phone-capture damage at graded severity: 0 none, 1 light, 2 medium, 3 heavy.

Applied in the order the physical process causes it: faint toner and a washed-out scan first, then
optical blur, a crooked page on the glass, sensor noise and dust, and last the lossy JPEG
compression of the scan. Each level draws its parameters from a range, so two medium scans differ
the way two real ones do. Deterministic given the generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

LEVELS = {0: "none", 1: "light", 2: "medium", 3: "heavy"}


@dataclass(frozen=True)
class Severity:
    """Parameter ranges (low, high) for one level."""

    skew_degrees: tuple[float, float]
    blur_sigma: tuple[float, float]
    noise_sigma: tuple[float, float]
    contrast: tuple[float, float]  # share of the paper-to-ink range that survives
    ink_strength: tuple[float, float]  # 1 = full black toner, lower = faint print
    jpeg_quality: tuple[int, int]
    speck_density: tuple[float, float]  # dust and salt-and-pepper specks per pixel


SEVERITIES: dict[int, Severity] = {
    1: Severity((0.2, 1.0), (0.3, 0.6), (3, 6), (0.85, 0.95), (0.85, 1.0), (80, 92), (0, 2e-5)),
    2: Severity((1.0, 2.5), (0.6, 0.9), (7, 11), (0.65, 0.8), (0.7, 0.85), (55, 70), (2e-5, 1e-4)),
    3: Severity((2.5, 4.0), (0.9, 1.3), (12, 18), (0.45, 0.6), (0.55, 0.7), (30, 45), (1e-4, 4e-4)),
}


@dataclass(frozen=True)
class Damage:
    """The parameters actually drawn for one page (kept for inspection and tests)."""

    skew_degrees: float
    blur_sigma: float
    noise_sigma: float
    contrast: float
    ink_strength: float
    jpeg_quality: int
    speck_density: float


def draw_damage(level: int, rng: np.random.Generator) -> Damage | None:
    """Parameters for one page at `level`; None for level 0 (a clean page)."""
    if level == 0:
        return None
    s = SEVERITIES[level]
    sign = 1.0 if rng.random() < 0.5 else -1.0
    return Damage(
        skew_degrees=sign * float(rng.uniform(*s.skew_degrees)),
        blur_sigma=float(rng.uniform(*s.blur_sigma)),
        noise_sigma=float(rng.uniform(*s.noise_sigma)),
        contrast=float(rng.uniform(*s.contrast)),
        ink_strength=float(rng.uniform(*s.ink_strength)),
        jpeg_quality=int(rng.integers(s.jpeg_quality[0], s.jpeg_quality[1] + 1)),
        speck_density=float(rng.uniform(*s.speck_density)),
    )


def apply_damage(page: np.ndarray, damage: Damage | None, rng: np.random.Generator) -> np.ndarray:
    """Damage an 8-bit grayscale page (white paper, dark ink); returns a new array."""
    if damage is None:
        return page.copy()
    # faint toner moves ink toward the paper; a washed-out scan squeezes the whole range around a
    # grey paper level: both are one lookup table on the 256 gray levels
    paper = 255.0 - 20.0 * (1.0 - damage.contrast)
    levels = np.arange(256, dtype=np.float32)
    levels = 255.0 - (255.0 - levels) * damage.ink_strength
    levels = paper - (paper - levels) * damage.contrast
    img = cv2.LUT(page, np.clip(np.rint(levels), 0, 255).astype(np.uint8))
    img = cv2.GaussianBlur(img, (0, 0), damage.blur_sigma)
    h, w = img.shape
    rotation = cv2.getRotationMatrix2D((w / 2, h / 2), damage.skew_degrees, 1.0)
    img = cv2.warpAffine(
        img,
        rotation,
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=round(paper),
    )
    noisy = rng.standard_normal((h, w), dtype=np.float32)
    noisy *= np.float32(damage.noise_sigma)
    noisy += img
    n_specks = int(damage.speck_density * h * w)
    if n_specks:
        ys = rng.integers(0, h, n_specks)
        xs = rng.integers(0, w, n_specks)
        noisy[ys, xs] = np.where(rng.random(n_specks) < 0.7, 40.0, 255.0)
    out = np.clip(noisy, 0, 255, out=noisy).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, damage.jpeg_quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
