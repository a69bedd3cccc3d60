import numpy as np
import polars as pl
import pytest

from roi_assets.personalization.assignments import content_assignments
from roi_assets.personalization.bandit import ContentPersonalizer

FAMILIES = {"subject_line": ["formal", "casual"], "cta_style": ["button", "link"]}
VARIANT_COLUMNS = {"subject_line": "subject_line_variant", "cta_style": "cta_style"}
CLIENTS = pl.DataFrame({"client_id": ["A", "B", "C"], "segment": ["buyer", "seller", "buyer"]})


@pytest.fixture
def personalizer() -> ContentPersonalizer:
    trained = ContentPersonalizer(FAMILIES, ["buyer", "seller"], VARIANT_COLUMNS)
    trained.samplers["subject_line"].alpha[:] = [[500.0, 5.0], [5.0, 500.0]]
    trained.samplers["subject_line"].beta[:] = [[500.0, 995.0], [995.0, 500.0]]
    return trained


def test_every_client_gets_one_variant_per_family_with_its_posterior_summary(personalizer):
    rows = content_assignments(personalizer, CLIENTS, VARIANT_COLUMNS, np.random.default_rng(0))
    assert rows["client_id"].to_list() == ["A", "B", "C"]
    assert rows.columns == [
        "client_id",
        "segment",
        "subject_line_variant",
        "subject_line_posterior_mean",
        "subject_line_ci_lower",
        "subject_line_ci_upper",
        "cta_style",
        "cta_style_posterior_mean",
        "cta_style_ci_lower",
        "cta_style_ci_upper",
    ]
    for family in FAMILIES:
        mean = rows[f"{family}_posterior_mean"]
        assert ((rows[f"{family}_ci_lower"] < mean) & (mean < rows[f"{family}_ci_upper"])).all()


def test_a_confident_posterior_assigns_each_segment_its_clearly_better_variant(personalizer):
    rows = content_assignments(personalizer, CLIENTS, VARIANT_COLUMNS, np.random.default_rng(0))
    assert rows["subject_line_variant"].to_list() == ["formal", "casual", "formal"]
    assert rows["subject_line_posterior_mean"].to_list() == pytest.approx([0.5, 0.5, 0.5])


def test_the_same_seed_gives_the_same_assignments(personalizer):
    first = content_assignments(personalizer, CLIENTS, VARIANT_COLUMNS, np.random.default_rng(4))
    again = content_assignments(personalizer, CLIENTS, VARIANT_COLUMNS, np.random.default_rng(4))
    assert first.equals(again)
