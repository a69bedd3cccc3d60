"""How the world turns decisions into sends: the product's where it decided, the legacy policy's
elsewhere, and the ε-greedy yardstick the content bandit is judged against (the engagement-hour
send time, the industry's yardstick, is the product's own baseline:
`send_time.engagement_hours`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from roi_assets.simulator import catalog

FAMILIES = tuple(catalog.CONTENT_VARIANTS)
N_VARIANTS = 5
NOT_DECIDED = -1
EPSILON = 0.1
RETENTION_EFFECT = 0.35  # a retention action lowers the client's daily churn hazard by 35 % ...
RETENTION_DAYS = 30  # ... for 30 days from the day it is taken


@dataclass(frozen=True)
class Decisions:
    """The product's published decisions, per client index (NOT_DECIDED where it has none)."""

    hour_of_week_local: np.ndarray  # int, 0 = Monday 00:00 in the client's time zone
    variants: dict[str, np.ndarray]  # family -> variant index
    retention: dict[int, str] = field(default_factory=dict)  # client index -> action

    @classmethod
    def none(cls, n_clients: int) -> Decisions:
        """No decision for anyone: every send follows the legacy policy."""
        empty = np.full(n_clients, NOT_DECIDED, dtype=np.int64)
        return cls(empty, {f: empty.copy() for f in FAMILIES})


@dataclass(frozen=True)
class PolicyChoices:
    """Hour of week and variants of each send: taken, and what the legacy policy would choose."""

    hour_of_week: np.ndarray
    variants: dict[str, np.ndarray]
    legacy_hour_of_week: np.ndarray
    legacy_variants: dict[str, np.ndarray]
    decided: np.ndarray  # bool: the product chose at least the hour or a variant

    @classmethod
    def for_sends(
        cls,
        decisions: Decisions | None,
        client_idx: np.ndarray,
        legacy_how: np.ndarray,
        legacy_variants: dict[str, np.ndarray],
    ) -> PolicyChoices:
        if decisions is None:
            return cls(
                legacy_how,
                legacy_variants,
                legacy_how,
                legacy_variants,
                np.zeros(len(client_idx), dtype=bool),
            )
        hour = decisions.hour_of_week_local[client_idx]
        decided = hour != NOT_DECIDED
        variants = {}
        for family in FAMILIES:
            chosen = decisions.variants[family][client_idx]
            decided |= chosen != NOT_DECIDED
            variants[family] = np.where(chosen != NOT_DECIDED, chosen, legacy_variants[family])
        return cls(
            np.where(hour != NOT_DECIDED, hour, legacy_how),
            variants,
            legacy_how,
            legacy_variants,
            decided,
        )


@dataclass
class EpsilonGreedy:
    """Per segment and family, an ε-greedy choice of variant by observed click rate: the simple
    learning policy the content bandit must beat. It starts from the legacy logs and, on live days,
    learns from the clicks its own choices would have got."""

    trials: np.ndarray  # (n_families, n_segments, n_variants)
    clicks: np.ndarray

    @classmethod
    def empty(cls) -> EpsilonGreedy:
        shape = (len(FAMILIES), len(catalog.SEGMENTS), N_VARIANTS)
        return cls(np.zeros(shape), np.zeros(shape))

    def learn(self, segment: np.ndarray, variants: dict[str, np.ndarray], clicked: np.ndarray):
        for f, family in enumerate(FAMILIES):
            np.add.at(self.trials[f], (segment, variants[family]), 1.0)
            np.add.at(self.clicks[f], (segment, variants[family]), clicked.astype(float))

    def choose(self, segment: np.ndarray, uniforms: np.ndarray) -> dict[str, np.ndarray]:
        """`uniforms` (m, n_families, 2): whether to explore, and which variant if so."""
        rate = self.clicks / np.maximum(self.trials, 1.0)
        chosen = {}
        for f, family in enumerate(FAMILIES):
            greedy = rate[f][segment].argmax(axis=1)
            explore = uniforms[:, f, 0] < EPSILON
            random = np.minimum((uniforms[:, f, 1] * N_VARIANTS).astype(np.int64), N_VARIANTS - 1)
            chosen[family] = np.where(explore, random, greedy)
        return chosen
