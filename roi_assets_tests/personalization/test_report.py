import datetime as dt

import numpy as np
import polars as pl
import pytest

from roi_assets.evaluation.oracle_comparison import EVALUATION_COLUMNS
from roi_assets.personalization.bandit import ContentPersonalizer
from roi_assets.personalization.evaluation import THOMPSON, UNIFORM_RANDOM
from roi_assets.personalization.report import ALL_FAMILIES, assess_bandit

from .test_evaluation import true_ctr_table

VARIANT_COLUMNS = {"subject_line": "subject_line_variant", "cta_style": "cta_style"}


def families(table):
    return {
        family: list(dict.fromkeys(rows["variant"])) for family, rows in table.groupby("family")
    }


def uniformly_logged_feedback(table, n: int, seed: int = 0) -> pl.DataFrame:
    """Sends with every family's variant drawn uniformly; a click from the subject line's CTR."""
    rng = np.random.default_rng(seed)
    segments = np.asarray(sorted(table["segment"].unique()), dtype=object)[rng.integers(0, 2, n)]
    chosen = {
        family: np.asarray(variants, dtype=object)[rng.integers(0, len(variants), n)]
        for family, variants in families(table).items()
    }
    ctr = table[table["family"] == "subject_line"].set_index(["segment", "variant"])["ctr"]
    clicks = rng.random(n) < ctr.loc[list(zip(segments, chosen["subject_line"], strict=True))]
    return pl.DataFrame(
        {
            "send_id": [f"s{i}" for i in range(n)],
            "sent_at": [dt.datetime(2025, 1, 1) + dt.timedelta(minutes=i) for i in range(n)],
            "segment": segments.tolist(),
            "subject_line_variant": chosen["subject_line"].tolist(),
            "cta_style": chosen["cta_style"].tolist(),
            "clicked_within_7d": clicks.to_numpy().astype(int),
        }
    )


@pytest.fixture(scope="module")
def report():
    table = true_ctr_table()
    personalizer = ContentPersonalizer(
        families(table), sorted(table["segment"].unique()), VARIANT_COLUMNS
    )
    feedback = uniformly_logged_feedback(table, 3_000)
    personalizer.update(feedback)
    return assess_bandit(
        personalizer, table, feedback, rounds=3_000, batch_size=10, epsilon=0.1, seed=0
    )


def test_thompson_sampling_beats_uniform_random_in_every_family_and_overall(report):
    for family in ("subject_line", "cta_style", ALL_FAMILIES):
        assert report.simulated(family, THOMPSON) > report.simulated(family, UNIFORM_RANDOM)


def test_posteriors_fed_enough_feedback_choose_the_oracles_subject_line(report):
    choice = report.posterior_choice.set_index("family").loc["subject_line"]
    assert choice["posterior_choice_ctr"] == pytest.approx(choice["oracle_ctr"])
    assert choice["uniform_ctr"] < choice["oracle_ctr"]


def test_the_replay_accepts_about_one_send_in_as_many_as_there_are_variants(report):
    replay = report.replay.set_index("family")
    assert replay.loc["subject_line", "n_accepted"] == pytest.approx(1_000, rel=0.25)
    assert replay.loc["cta_style", "n_accepted"] == pytest.approx(1_500, rel=0.25)


def test_the_evaluation_rows_cover_each_family_with_the_oracle_and_a_baseline(report):
    rows = report.metrics("roi-content-bandit", "3000", "a/b", dt.datetime(2025, 6, 1))
    assert rows.columns == list(EVALUATION_COLUMNS)
    assert rows["metric"].is_unique().all()
    ctr = rows.filter(pl.col("metric") == "simulated_ctr_all").row(0, named=True)
    assert ctr["value"] == pytest.approx(report.simulated(ALL_FAMILIES, THOMPSON))
    assert ctr["baseline_value"] == pytest.approx(report.simulated(ALL_FAMILIES, UNIFORM_RANDOM))
    assert ctr["oracle_value"] > ctr["value"]
    assert {f"replay_ctr_{family}" for family in ("subject_line", "cta_style", "all")} <= set(
        rows["metric"]
    )


def test_the_report_and_regret_plot_render(report):
    assert "| subject_line |" in report.markdown()
    assert report.regret_png().startswith(b"\x89PNG")
