"""The deterministic traffic split shared by the A/B test, the rollout and the serving API.

A client's arm is a pure function of its id and the experiment's salt, so a client stays in one
arm for the whole test, on every process, without any stored assignment. The hash is SHA-256 (not
Python's `hash`, which is salted per process).
"""

from __future__ import annotations

import hashlib
from typing import Literal

Arm = Literal["champion", "challenger"]
CHAMPION_ARM: Arm = "champion"
CHALLENGER_ARM: Arm = "challenger"
_BUCKETS = 10_000


def bucket(client_id: str | int, salt: str) -> float:
    """A client's position in [0, 1) for this salt, uniform across clients."""
    digest = hashlib.sha256(f"{salt}:{client_id}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") % _BUCKETS) / _BUCKETS


def arm_for(client_id: str | int, challenger_share: float, salt: str) -> Arm:
    """`challenger` for the clients whose bucket falls below `challenger_share`, else `champion`.

    Raising the share (a rollout step) only moves clients from champion to challenger, never back.
    """
    if not 0.0 <= challenger_share <= 1.0:
        raise ValueError(f"challenger_share must lie in [0, 1], got {challenger_share}")
    return CHALLENGER_ARM if bucket(client_id, salt) < challenger_share else CHAMPION_ARM


def experiment_salt(model_name: str, challenger_version: str | int) -> str:
    """One experiment's salt: a new challenger reshuffles the arms, a rollout step does not."""
    return f"{model_name}:{challenger_version}"
