import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import stats

from roi_assets.personalization.bandit import ContentPersonalizer, ThompsonSampler

FAMILIES = {
    "subject_line": ["professional_formal", "friendly_casual", "urgent_action"],
    "cta_style": ["button_prominent", "text_link"],
}
VARIANT_COLUMNS = {"subject_line": "subject_line_variant", "cta_style": "cta_style"}
SEGMENTS = ["buyer_under_250k", "seller_over_1m"]


def feedback() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "send_id": ["s1", "s2", "s3", "s4"],
            "segment": ["buyer_under_250k", "buyer_under_250k", "seller_over_1m", "seller_over_1m"],
            "subject_line_variant": [
                "urgent_action",
                "urgent_action",
                "friendly_casual",
                "urgent_action",
            ],
            "cta_style": ["text_link", "button_prominent", "text_link", "text_link"],
            "clicked_within_7d": [1, 0, 1, 0],
        }
    )


def personalizer() -> ContentPersonalizer:
    return ContentPersonalizer(FAMILIES, SEGMENTS, VARIANT_COLUMNS)


def test_on_two_arms_with_ctr_5_and_10_percent_thompson_sampling_settles_on_the_better_arm():
    rng = np.random.default_rng(0)
    sampler = ThompsonSampler(["everyone"], ["five_percent", "ten_percent"])
    true_ctr = {"five_percent": 0.05, "ten_percent": 0.10}
    for _ in range(5_000):
        arm = sampler.select("everyone", rng)
        sampler.update("everyone", arm, float(rng.random() < true_ctr[arm]))
    choices = sampler.select_many(["everyone"] * 2_000, rng)
    assert np.mean(choices == "ten_percent") > 0.90


def test_new_samplers_start_from_the_uniform_beta_1_1_prior():
    sampler = ThompsonSampler(SEGMENTS, FAMILIES["cta_style"])
    assert (sampler.alpha == 1).all() and (sampler.beta == 1).all()


def test_updates_move_alpha_by_clicks_and_beta_by_non_clicks():
    sampler = ThompsonSampler(["s"], ["a", "b"])
    sampler.update_many(["s", "s", "s"], ["a", "a", "b"], [1, 0, 1])
    assert sampler.alpha.tolist() == [[2.0, 2.0]]
    assert sampler.beta.tolist() == [[2.0, 1.0]]
    assert sampler.n_updates.tolist() == [[2, 1]]


def test_applying_the_same_feedback_twice_leaves_the_posterior_unchanged():
    model = personalizer()
    first = model.update(feedback())
    after_first = model.posterior_summary()
    second = model.update(feedback())
    assert first == {"subject_line": 4, "cta_style": 4}
    assert second == {"subject_line": 0, "cta_style": 0}
    pd.testing.assert_frame_equal(model.posterior_summary(), after_first)


def test_only_new_feedback_ids_are_absorbed_when_old_and_new_rows_arrive_together():
    model = personalizer()
    model.update(feedback().iloc[:2])
    absorbed = model.update(feedback())
    assert absorbed == {"subject_line": 2, "cta_style": 2}
    assert model.samplers["cta_style"].n_updates.sum() == 4


def test_a_feedback_id_repeated_within_one_batch_counts_once():
    sampler = ThompsonSampler(["s"], ["a"])
    assert sampler.update_many(["s", "s"], ["a", "a"], [1, 1], feedback_ids=["x", "x"]) == 1
    assert sampler.update("s", "a", 1.0, feedback_id="x") is False
    assert sampler.alpha.tolist() == [[2.0]]


def test_the_posterior_summary_reports_the_beta_mean_inside_its_95_percent_interval():
    model = personalizer()
    model.update(feedback())
    summary = model.posterior_summary()
    assert set(summary.columns) >= {"family", "segment", "variant", "alpha", "beta", "mean"}
    assert ((summary["lower"] <= summary["mean"]) & (summary["mean"] <= summary["upper"])).all()
    row = summary.query(
        "family == 'cta_style' and segment == 'seller_over_1m' and variant == 'text_link'"
    ).iloc[0]
    assert (row["alpha"], row["beta"]) == (2.0, 2.0)
    assert row["mean"] == pytest.approx(0.5)
    assert row["lower"] == pytest.approx(stats.beta.ppf(0.025, 2, 2))
    assert row["upper"] == pytest.approx(stats.beta.ppf(0.975, 2, 2))


def test_the_interval_contains_the_mean_even_for_very_skewed_posteriors():
    sampler = ThompsonSampler(["s"], ["rare", "common"])
    sampler.update_many(["s"] * 1000, ["rare"] * 1000, np.zeros(1000))
    sampler.update_many(["s"] * 1000, ["common"] * 1000, np.ones(1000))
    summary = sampler.posterior_summary()
    assert ((summary["lower"] <= summary["mean"]) & (summary["mean"] <= summary["upper"])).all()


def test_the_persisted_tables_restore_posteriors_and_keep_updates_idempotent():
    model = personalizer()
    model.update(feedback())
    posteriors, absorbed = model.to_tables()
    assert list(posteriors.columns) == [
        "family",
        "segment",
        "variant",
        "alpha",
        "beta",
        "n_updates",
    ]
    restored = ContentPersonalizer.from_tables(posteriors, absorbed, VARIANT_COLUMNS)
    pd.testing.assert_frame_equal(restored.posterior_summary(), model.posterior_summary())
    assert restored.update(feedback()) == {"subject_line": 0, "cta_style": 0}


def test_selection_is_reproducible_with_a_seeded_generator_and_returns_known_variants():
    model = personalizer()
    model.update(feedback())
    segments = ["buyer_under_250k", "seller_over_1m"] * 50
    first = model.select_many(segments, np.random.default_rng(9))
    second = model.select_many(segments, np.random.default_rng(9))
    pd.testing.assert_frame_equal(first, second)
    assert set(first["subject_line"]) <= set(FAMILIES["subject_line"])
    assert set(model.select("seller_over_1m", np.random.default_rng(1))) == set(FAMILIES)


def test_feedback_may_come_as_a_polars_frame():
    model = personalizer()
    assert model.update(pl.from_pandas(feedback())) == {"subject_line": 4, "cta_style": 4}


def test_an_unknown_segment_is_reported_by_name():
    with pytest.raises(KeyError, match="renter_under_250k"):
        ThompsonSampler(SEGMENTS, ["a"]).select("renter_under_250k", np.random.default_rng(0))


def test_each_family_learns_from_its_own_reward_column():
    model = ContentPersonalizer(
        FAMILIES, SEGMENTS, VARIANT_COLUMNS, reward_columns={"subject_line": "opened_within_7d"}
    )
    model.update(feedback().assign(opened_within_7d=[1, 1, 1, 1]))
    subject = model.samplers["subject_line"]
    # buyer/urgent_action: two sends, both opened, one clicked
    assert (subject.alpha[0, 2], subject.beta[0, 2]) == (3.0, 1.0)
    cta = model.samplers["cta_style"]
    assert cta.alpha[0].tolist() == [1.0, 2.0]  # buyer: the text-link send was clicked


def test_the_configuration_names_the_policy_not_what_it_learned():
    learned = personalizer()
    learned.update(feedback())
    assert learned.configuration() == personalizer().configuration()
    on_opens = ContentPersonalizer(
        FAMILIES, SEGMENTS, VARIANT_COLUMNS, reward_columns={"subject_line": "opened_within_7d"}
    )
    assert on_opens.configuration() != personalizer().configuration()
    with_prior = ContentPersonalizer(FAMILIES, SEGMENTS, VARIANT_COLUMNS, prior_alpha=2.0)
    assert with_prior.configuration() != personalizer().configuration()
