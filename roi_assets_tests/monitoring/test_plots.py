"""The pictures the asset pages show: drift per feature, selection rate per group, churn tiers."""

from __future__ import annotations

import io

import polars as pl
from PIL import Image

from roi_assets.churn.plots import tier_distribution_png
from roi_assets.churn.scoring import tier_distribution
from roi_assets.monitoring.drift.plots import drift_scores_png
from roi_assets.monitoring.fairness.plots import selection_rate_by_group_png


def _image(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image


def test_drift_plot_has_one_bar_per_feature_up_to_the_top():
    drift = pl.DataFrame(
        {
            "feature": [f"f{i}" for i in range(30)],
            "score": [i / 100 for i in range(30)],
            "threshold": [0.1] * 30,
            "drifted": [i > 10 for i in range(30)],
        }
    )
    few, many = _image(drift_scores_png(drift.head(4))), _image(drift_scores_png(drift))
    assert many.height > few.height  # 20 bars need more room than 4


def test_selection_rate_plot_has_a_panel_per_attribute():
    rows = [
        {"attribute": a, "metric": "selection_rate", "group": g, "variant": v, "value": 0.3}
        for a in ("age_group", "region")
        for g in ("x", "y")
        for v in ("model", "mitigated")
    ]
    two = _image(selection_rate_by_group_png(pl.DataFrame(rows)))
    one = _image(
        selection_rate_by_group_png(pl.DataFrame([r for r in rows if r["attribute"] == "region"]))
    )
    assert two.width > one.width


def test_tier_plot_draws_every_window():
    risk = pl.DataFrame({"window_days": [30, 30, 60, 90], "tier": ["low", "high", "low", "low"]})
    assert _image(tier_distribution_png(tier_distribution(risk))).width > 0
