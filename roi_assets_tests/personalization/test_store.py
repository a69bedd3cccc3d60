import datetime as dt

import duckdb
import pytest

from roi_assets.personalization.rewards import FUNNEL_REWARDS
from roi_assets.personalization.store import (
    ABSORBED_TABLE,
    POSTERIOR_TABLE,
    load_personalizer,
    new_feedback,
    update_posteriors,
)

FAMILIES = {"subject_line": ["formal", "casual"], "cta_style": ["button", "link"]}
SEGMENTS = ["buyer", "seller"]
VARIANT_COLUMNS = {"subject_line": "subject_line_variant", "cta_style": "cta_style"}
NOW = dt.datetime(2025, 6, 1)
# send, sent at, segment, subject line, CTA style, clicked, label complete
SENDS = [
    ("s1", "2025-05-01 09:00", "buyer", "casual", "button", 1, True),
    ("s2", "2025-05-02 09:00", "buyer", "casual", "link", 0, True),
    ("s3", "2025-05-03 09:00", "seller", "formal", "link", 1, True),
    ("s4", "2025-05-30 09:00", "seller", "formal", "link", 1, False),
]


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute("create schema features")
    connection.execute(
        "create table features.feat_email_engagement (send_id varchar, sent_at timestamp, "
        "segment varchar, subject_line_variant varchar, cta_style varchar, "
        "clicked_within_7d integer, label_complete boolean)"
    )
    add_sends(connection, SENDS)
    yield connection
    connection.close()


def add_sends(con, sends) -> None:
    values = ", ".join("?" * len(sends[0]))
    con.executemany(f"insert into features.feat_email_engagement values ({values})", sends)


def update(con, now=NOW):
    return update_posteriors(con, FAMILIES, SEGMENTS, VARIANT_COLUMNS, now)


def stored(con) -> tuple[list, list]:
    posteriors = con.execute(f"select * from {POSTERIOR_TABLE} order by all").fetchall()
    absorbed = con.execute(f"select * from {ABSORBED_TABLE} order by all").fetchall()
    return posteriors, absorbed


def test_the_first_update_absorbs_every_labelled_send_into_every_family(con):
    result = update(con)
    assert (result.new_feedback, result.total_feedback, result.version) == (3, 3, "3")
    sampler = load_personalizer(con, FAMILIES, SEGMENTS, VARIANT_COLUMNS).samplers["subject_line"]
    assert sampler.alpha.tolist() == [
        [1.0, 2.0],
        [2.0, 1.0],
    ]  # buyer/casual 1 click, seller/formal 1
    assert sampler.beta.tolist() == [[1.0, 2.0], [1.0, 1.0]]


def test_updating_again_on_the_same_feedback_changes_nothing(con):
    update(con)
    before = stored(con)
    again = update(con, now=NOW + dt.timedelta(days=1))
    assert again.new_feedback == 0 and again.total_feedback == 3
    assert stored(con) == before


def test_only_new_feedback_is_absorbed_even_when_it_was_sent_before_absorbed_sends(con):
    update(con)
    late = ("s0", "2025-04-30 09:00", "buyer", "formal", "button", 1, True)  # labelled late
    add_sends(con, [late])
    assert new_feedback(con, VARIANT_COLUMNS)["send_id"].to_list() == ["s0"]
    result = update(con, now=NOW + dt.timedelta(days=1))
    assert (result.new_feedback, result.total_feedback) == (1, 4)
    cta = load_personalizer(con, FAMILIES, SEGMENTS, VARIANT_COLUMNS).samplers["cta_style"]
    assert cta.alpha[0].tolist() == [3.0, 1.0]  # buyer/button: s1 and s0 clicked


def test_a_restored_personalizer_keeps_the_given_segment_and_variant_order(con):
    update(con)
    restored = load_personalizer(con, FAMILIES, SEGMENTS, VARIANT_COLUMNS)
    assert restored.segments == tuple(SEGMENTS)
    assert restored.samplers["cta_style"].arms == ("button", "link")


def every_send_opened(con) -> None:
    con.execute("alter table features.feat_email_engagement add column opened_within_7d integer")
    con.execute("update features.feat_email_engagement set opened_within_7d = 1")


def test_with_the_funnel_s_rewards_the_subject_line_learns_from_opens(con):
    every_send_opened(con)
    update_posteriors(con, FAMILIES, SEGMENTS, VARIANT_COLUMNS, NOW, FUNNEL_REWARDS)
    restored = load_personalizer(con, FAMILIES, SEGMENTS, VARIANT_COLUMNS)
    # buyer/casual: s1 clicked, s2 did not, both opened
    assert restored.samplers["subject_line"].alpha[0].tolist() == [1.0, 3.0]
    assert restored.samplers["cta_style"].alpha[0].tolist() == [2.0, 1.0]  # s1's click


def test_when_a_family_s_reward_changes_its_posteriors_are_learned_again_from_every_send(con):
    update(con)  # every family on clicks
    every_send_opened(con)
    add_sends(con, [("s5", "2025-05-04 09:00", "buyer", "formal", "link", 0, True, 1)])
    result = update_posteriors(con, FAMILIES, SEGMENTS, VARIANT_COLUMNS, NOW, FUNNEL_REWARDS)
    assert (result.new_feedback, result.total_feedback) == (4, 4)
    relearned = load_personalizer(con, FAMILIES, SEGMENTS, VARIANT_COLUMNS)
    assert relearned.samplers["subject_line"].alpha[0].tolist() == [2.0, 3.0]  # opens, not clicks
    assert relearned.samplers["cta_style"].n_updates.sum() == 4  # no send counted twice
    again = update_posteriors(con, FAMILIES, SEGMENTS, VARIANT_COLUMNS, NOW, FUNNEL_REWARDS)
    assert again.new_feedback == 0


def test_without_stored_posteriors_the_prior_is_beta_1_1(con):
    prior = load_personalizer(con, FAMILIES, SEGMENTS, VARIANT_COLUMNS)
    assert prior.samplers["subject_line"].alpha.tolist() == [[1.0, 1.0], [1.0, 1.0]]
