"""The traffic split: deterministic per client, the planned share, and monotone as it grows."""

from __future__ import annotations

import itertools

from roi_assets.deployment.split import (
    CHALLENGER_ARM,
    CHAMPION_ARM,
    arm_for,
    experiment_salt,
)

CLIENTS = [f"C{i:06d}" for i in range(20_000)]
SALT = experiment_salt("roi-engagement-open", "2")


def test_a_client_always_gets_the_same_arm():
    first = [arm_for(c, 0.2, SALT) for c in CLIENTS[:1_000]]
    again = [arm_for(c, 0.2, SALT) for c in CLIENTS[:1_000]]
    assert first == again


def test_about_twenty_percent_of_clients_see_the_challenger():
    share = sum(arm_for(c, 0.2, SALT) == CHALLENGER_ARM for c in CLIENTS) / len(CLIENTS)
    # binomial standard error at n = 20,000 is 0.0028: ±0.01 is more than three of them
    assert abs(share - 0.2) < 0.01


def test_growing_the_share_only_moves_clients_from_champion_to_challenger():
    shares = (0.2, 0.5, 0.8, 1.0)
    arms = {s: {c: arm_for(c, s, SALT) for c in CLIENTS[:5_000]} for s in shares}
    for smaller, larger in itertools.pairwise(shares):
        moved_back = [
            c
            for c in arms[smaller]
            if arms[smaller][c] == CHALLENGER_ARM and arms[larger][c] == CHAMPION_ARM
        ]
        assert not moved_back
    assert set(arms[1.0].values()) == {CHALLENGER_ARM}


def test_a_new_challenger_reshuffles_the_arms():
    other = experiment_salt("roi-engagement-open", "3")
    same = sum(arm_for(c, 0.2, SALT) == arm_for(c, 0.2, other) for c in CLIENTS[:5_000])
    # independent 20 % splits agree on 0.8² + 0.2² = 68 % of clients, not on all of them
    assert 0.64 < same / 5_000 < 0.72
