"""Page clean-up steps each do their one job; the quality score tracks the damage."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from roi_assets.documents.preprocess import (
    DESKEW_FROM_DEGREES,
    DESPECKLE_FROM_NOISE,
    FAINT_INK_BELOW_MARGIN,
    HEAVY_NOISE_FROM,
    STEPS,
    binarize_otsu,
    binarize_sauvola,
    clahe,
    denoise,
    deskew,
    despeckle,
    estimate_skew,
    plan_clean_up,
    preprocess,
    remove_checkboxes,
    remove_rules,
    split_ink,
    stretch_contrast,
)
from roi_assets.documents.quality import score_quality
from roi_assets.documents.tesseract import tesseract_page
from roi_assets.simulator.documents.render import load_font
from roi_assets.simulator.documents.writer import simulate_document

OTSU_FINE = 50.0  # Otsu's threshold far below the paper: it parts ink from paper


@pytest.fixture(scope="module")
def clean_page() -> np.ndarray:
    return simulate_document(
        0, 2, dpi=150, doc_type="purchase_agreement", degradation_level=0
    ).pages[0]


def _rotate(page: np.ndarray, degrees: float) -> np.ndarray:
    h, w = page.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(page, matrix, (w, h), borderValue=255)


def _canvas(draw_on) -> np.ndarray:
    image = Image.new("L", (600, 240), 255)
    draw_on(ImageDraw.Draw(image), load_font("sans", False, 30))
    return np.asarray(image).copy()


def test_the_quality_score_falls_as_scan_damage_grows():
    scores = {
        level: [
            score_quality(simulate_document(i, 4, degradation_level=level).pages[0]).score
            for i in range(3)
        ]
        for level in range(4)
    }
    means = [np.mean(scores[level]) for level in range(4)]
    assert means == sorted(means, reverse=True)
    assert min(scores[0]) >= 0.9
    assert max(scores[3]) < 0.8


def test_the_quality_score_does_not_depend_on_the_scan_resolution():
    low = simulate_document(6, 4, dpi=150, degradation_level=0).pages[0]
    high = simulate_document(6, 4, dpi=200, degradation_level=0).pages[0]
    assert abs(score_quality(low).score - score_quality(high).score) < 0.1


def test_a_blank_page_has_no_skew_and_a_poor_score():
    blank = np.full((1100, 850), 250, np.uint8)
    assert estimate_skew(blank) == 0.0
    assert score_quality(blank).score < 0.5


@pytest.mark.parametrize("degrees", [-3.1, 1.4])
def test_skew_is_measured_and_undone(clean_page, degrees):
    tilted = _rotate(clean_page, degrees)
    assert estimate_skew(tilted) == pytest.approx(degrees, abs=0.15)
    assert estimate_skew(deskew(tilted)) == pytest.approx(0.0, abs=0.15)


def test_binarisation_gives_black_and_white_and_keeps_the_ink(clean_page):
    faint = (255 - (255 - clean_page.astype(np.float32)) * 0.5).astype(np.uint8)
    reference = (binarize_otsu(clean_page) == 0).mean()
    for binary in (binarize_otsu(faint), binarize_sauvola(faint)):
        assert set(np.unique(binary)) <= {0, 255}
        assert (binary == 0).mean() == pytest.approx(reference, rel=0.35)


def test_rule_removal_erases_a_table_grid_but_keeps_the_words():
    page = _canvas(
        lambda d, f: (
            d.rectangle((20, 40, 580, 200), outline=0, width=2),
            d.line((300, 40, 300, 200), fill=0, width=2),
            d.text((40, 100), "Repair", fill=0, font=f),
        )
    )
    cleaned = remove_rules(page, dpi=200)
    assert (cleaned[40:43, 150:250] > 200).all()  # the top border, away from the word
    assert (cleaned[60:180, 298:303] > 200).all()  # the column divider
    word = (slice(95, 140), slice(35, 160))
    assert (cleaned[word] < 128).sum() == pytest.approx((page[word] < 128).sum(), rel=0.1)


def test_checkbox_removal_erases_boxes_but_not_round_letters():
    def draw(d, f):
        d.rectangle((20, 100, 44, 124), outline=0, width=2)  # an empty tick box
        d.rectangle((20, 150, 44, 174), outline=0, width=2)
        d.line((24, 154, 40, 170), fill=0, width=3)  # ticked
        d.line((40, 154, 24, 170), fill=0, width=3)
        d.text((100, 100), "O D 0 Q", fill=0, font=f)

    page = _canvas(draw)
    cleaned = remove_checkboxes(page, dpi=200)
    assert (cleaned[95:180, 15:50] > 200).all()
    letters = (slice(95, 140), slice(95, 260))
    assert (cleaned[letters] < 128).sum() == (page[letters] < 128).sum()


def test_contrast_steps_spread_a_faint_page_over_the_gray_range(clean_page):
    faint = (clean_page.astype(np.float32) * 0.3 + 150).astype(np.uint8)
    stretched = stretch_contrast(faint)
    assert np.percentile(stretched, 1) < 10 and np.percentile(stretched, 99) > 245
    assert clahe(faint).std() > faint.std()


def test_denoising_steps_lower_the_noise_on_paper_and_keep_the_page_shape(clean_page):
    crop = clean_page[:300, :400].astype(np.float64) * 0.5 + 64  # grey paper: no clipped noise
    noise = np.random.default_rng(0).normal(0, 12, crop.shape)
    noisy = np.clip(crop + noise, 0, 255).astype(np.uint8)
    paper = cv2.erode((crop > 190).astype(np.uint8), np.ones((7, 7), np.uint8)) == 1
    for step in (despeckle, denoise):
        cleaned = step(noisy)
        assert cleaned.shape == crop.shape and cleaned.dtype == np.uint8
        assert cleaned[paper].std() < 0.7 * noisy[paper].std()


def test_preprocessing_reports_the_time_of_each_step_it_ran(clean_page):
    result = preprocess(clean_page, ("deskew", "despeckle", "remove_rules"), dpi=150)
    assert list(result.step_seconds) == ["deskew", "despeckle", "remove_rules"]
    assert result.image.shape == clean_page.shape
    with pytest.raises(ValueError, match="unknown clean-up steps"):
        preprocess(clean_page, ("sharpen",), dpi=150)


def test_every_step_keeps_the_page_shape_and_type(clean_page):
    for name in STEPS:
        cleaned = preprocess(clean_page, (name,), dpi=150).image
        assert cleaned.shape == clean_page.shape and cleaned.dtype == np.uint8, name


def test_a_clean_straight_page_is_only_relieved_of_its_form_furniture():
    plan = plan_clean_up(skew_degrees=0.05, noise_sigma=0.1, otsu_margin=OTSU_FINE)
    assert plan.steps == ("remove_rules", "remove_checkboxes") and not plan.heavy_noise


def test_the_page_measurements_decide_deskewing_and_despeckling():
    crooked = plan_clean_up(
        skew_degrees=-DESKEW_FROM_DEGREES - 0.5, noise_sigma=0.1, otsu_margin=OTSU_FINE
    )
    assert crooked.steps[0] == "deskew" and "despeckle" not in crooked.steps
    noisy = plan_clean_up(
        skew_degrees=0.0, noise_sigma=DESPECKLE_FROM_NOISE + 0.5, otsu_margin=OTSU_FINE
    )
    assert noisy.steps[0] == "despeckle" and not noisy.heavy_noise
    heavy = plan_clean_up(
        skew_degrees=3.0, noise_sigma=HEAVY_NOISE_FROM + 1.0, otsu_margin=OTSU_FINE
    )
    assert heavy.steps.count("despeckle") == 2 and heavy.heavy_noise
    assert heavy.steps[-1] == "smooth" and "smooth" not in noisy.steps


def test_smoothing_evens_out_the_grain_on_paper_and_keeps_the_ink_dark(clean_page):
    crop = clean_page[:300, :400].astype(np.float64) * 0.5 + 64
    noisy = np.clip(crop + np.random.default_rng(1).normal(0, 12, crop.shape), 0, 255)
    noisy = noisy.astype(np.uint8)
    paper = cv2.erode((crop > 190).astype(np.uint8), np.ones((7, 7), np.uint8)) == 1
    ink = cv2.erode((crop < 100).astype(np.uint8), np.ones((3, 3), np.uint8)) == 1
    smoothed = preprocess(noisy, ("smooth",), dpi=200).image
    assert smoothed[paper].std() < 0.5 * noisy[paper].std()
    assert smoothed[ink].mean() < smoothed[paper].mean() - 40


def _faint_noisy_page(degrees: float = 3.0) -> np.ndarray:
    """A heavily damaged signature page: three lines of faint ink (40 levels below the paper)
    on a 200-dpi page drowned in noise (sigma 12), three degrees crooked."""
    image = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(("Grantor: Jennifer Baker", "Notary Public", "Page 3 of 3")):
        draw.text((200, 300 + 90 * i), line, fill=0, font=load_font("sans", False, 40))
    page = _rotate(np.asarray(image), degrees).astype(np.float32) / 255.0
    page = 205.0 + 40.0 * page + np.random.default_rng(0).normal(0, 12.0, page.shape)
    return np.clip(page, 0, 255).astype(np.uint8)


def test_ink_is_told_from_paper_by_otsu_wherever_otsu_parts_them(clean_page):
    otsu = cv2.threshold(clean_page, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    split = split_ink(clean_page)
    assert np.array_equal(split.mask, otsu) and split.otsu_margin > 10


def test_the_noise_of_a_faint_page_with_a_few_lines_is_not_taken_for_ink():
    page = _faint_noisy_page()
    assert tesseract_page(page, 200).text == ""  # Otsu's threshold parts the paper's noise
    report = score_quality(page)
    assert report.ink_fraction < 0.03
    assert report.noise_sigma >= HEAVY_NOISE_FROM
    assert report.skew_degrees == pytest.approx(3.0, abs=0.3)
    assert report.otsu_margin < FAINT_INK_BELOW_MARGIN


def test_a_faint_noisy_crooked_page_is_planned_a_clean_up_that_reads_it():
    page = _faint_noisy_page()
    report = score_quality(page)
    plan = plan_clean_up(report.skew_degrees, report.noise_sigma, report.otsu_margin)
    assert plan.steps[0] == "deskew" and plan.heavy_noise
    assert plan.steps[-1] == "binarize_below_paper"
    cleaned = preprocess(page, plan.steps, dpi=200).image
    text = tesseract_page(cleaned, 200, heavy_noise=plan.heavy_noise).text
    assert " ".join(text.split()) == "Grantor: Jennifer Baker Notary Public Page 3 of 3"


def test_only_a_page_whose_ink_otsu_cannot_find_is_binarised_before_tesseract():
    faint = plan_clean_up(3.0, HEAVY_NOISE_FROM + 1.0, FAINT_INK_BELOW_MARGIN - 1.0)
    heavy = plan_clean_up(3.0, HEAVY_NOISE_FROM + 1.0, FAINT_INK_BELOW_MARGIN + 1.0)
    assert faint.steps == (*heavy.steps, "binarize_below_paper")
