"""Named world sizes and the switches that bend a world (drift, planted bias)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Scale:
    """How big a world is. Daily rates are per active client."""

    name: str
    n_clients: int
    n_days: int
    sends_per_week: float
    n_documents: int
    activity_scale: float = 1.0  # multiplies every daily event rate


SCALES: dict[str, Scale] = {
    # tests: a few seconds end to end
    "tiny": Scale("tiny", n_clients=300, n_days=150, sends_per_week=1.5, n_documents=12),
    # `make run`: a realistic world that finishes in minutes on 2 cores
    "default": Scale("default", n_clients=2_000, n_days=270, sends_per_week=1.2, n_documents=120),
    # benchmarks: ≥ 100,000 clients and ≥ 10 million events
    "large": Scale(
        "large",
        n_clients=100_000,
        n_days=365,
        sends_per_week=1.0,
        n_documents=300,
        activity_scale=0.3,
    ),
    # the feature build's ceiling on one machine: a national platform's million clients, with the
    # large world's per-client rates (about 10x its rows)
    "xlarge": Scale(
        "xlarge",
        n_clients=1_000_000,
        n_days=365,
        sends_per_week=1.0,
        n_documents=300,
        activity_scale=0.3,
    ),
}


@dataclass(frozen=True)
class Drift:
    """Shifts chosen distributions from `start_day` on, so monitoring has something to find.

    Feature drift: longer subject lines, less personalised content, fewer logins. Concept drift:
    the population's good hours move later by `hour_shift` hours.
    """

    start_day: int
    subject_length_shift: float = 25.0
    personalization_shift: float = -0.2
    login_rate_factor: float = 0.6
    hour_shift: int = 3


@dataclass(frozen=True)
class WorldConfig:
    seed: int = 7
    scale: Scale = field(default_factory=lambda: SCALES["default"])
    start_date: dt.date = dt.date(2025, 1, 6)  # a Monday
    drift: Drift | None = None
    # Logit penalty on the open propensity of clients aged 65+, for testing fairness reports.
    age_group_bias: float = 0.0

    @property
    def end_date(self) -> dt.date:
        return self.start_date + dt.timedelta(days=self.scale.n_days)

    def fingerprint(self) -> dict:
        """What identifies a world: equal fingerprints mean byte-identical landing files."""
        return {
            "seed": self.seed,
            "scale": asdict(self.scale),
            "start_date": self.start_date.isoformat(),
            "drift": asdict(self.drift) if self.drift else None,
            "age_group_bias": self.age_group_bias,
        }


def world_config(scale: str, seed: int, **overrides) -> WorldConfig:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {sorted(SCALES)}")
    return WorldConfig(seed=seed, scale=SCALES[scale], **overrides)
