import base64

import numpy as np
import pytest

from roi_assets.evaluation.reliability import png_markdown, reliability_curve, reliability_plot_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_curve_lies_on_the_diagonal_for_calibrated_bins():
    outcomes = [1] * 3 + [0] * 7 + [1] * 8 + [0] * 2
    scores = [0.3] * 10 + [0.8] * 10

    curve = reliability_curve(outcomes, scores, n_bins=10)

    assert curve["mean_predicted"].to_list() == pytest.approx([0.3, 0.8])
    assert curve["observed_frequency"].to_list() == pytest.approx([0.3, 0.8])


def test_the_plot_is_a_png_and_embeds_in_markdown():
    rng = np.random.default_rng(0)
    probability = rng.uniform(size=300)
    outcomes = (rng.uniform(size=300) < probability).astype(int)

    png = reliability_plot_png(
        outcomes, {"model": probability, "base rate": np.full(300, outcomes.mean())}
    )

    assert png.startswith(PNG_SIGNATURE)
    markdown = png_markdown(png, "reliability")
    assert markdown.startswith("![reliability](data:image/png;base64,")
    assert base64.b64decode(markdown.split(",", 1)[1].rstrip(")")) == png


def test_a_plot_needs_something_to_draw():
    with pytest.raises(ValueError, match="no scores"):
        reliability_plot_png([0, 1], {})
