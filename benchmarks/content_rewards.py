"""Which reward should each content family learn from? Thompson sampling on clicks against
Thompson sampling on the step of the funnel the family acts on, and ε-greedy, on the world's
true content CTRs.

The subject line acts on the open: its CTR is its open rate times the segment's click-given-open
rate, so the open rate of each (segment, subject line) is its true CTR over that ratio (the
segment's clicks per open in the logged sends). The template and the CTA act once the email is
open. Each policy starts from the logged history (as many uniformly random sends per segment as
the warehouse holds) and then serves `--days` days of the live volume, learning from each day's
outcomes a label window (7 days) later, as the product does; ε-greedy learns at once, as the
world's yardstick does. Printed per family: the share of the best variant's CTR the choices got,
averaged over `--seeds` seeds, and the ratio of the funnel's reward to clicks (the baseline).

    make run && .venv/bin/python benchmarks/content_rewards.py [--days 35] [--seeds 20]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import numpy as np
from machine import load_average, machine_description

from roi_assets import settings
from roi_assets.personalization.rewards import FUNNEL_REWARDS, OPEN_REWARD

LABEL_DAYS = 7
EPSILON = 0.1


def _ctr_table(con: duckdb.DuckDBPyConnection, family: str) -> tuple[list[str], np.ndarray]:
    rows = con.execute(
        "select segment, variant, true_ctr from truth.content_ctr where family = ? "
        "order by segment, variant",
        [family],
    ).fetchall()
    segments = sorted({segment for segment, _, _ in rows})
    ctr = np.array([value for _, _, value in rows]).reshape(len(segments), -1)
    return segments, ctr


def simulate(
    reward_rate: np.ndarray,
    ctr: np.ndarray,
    history: np.ndarray,
    sends_per_day: int,
    days: int,
    policy: str,
    rng: np.random.Generator,
) -> float:
    """Share of the best variant's CTR that `policy` gets over the live days, learning from
    rewards drawn at `reward_rate` (n_segments, n_variants): "thompson", "frozen" (Thompson
    sampling from the history's posteriors, never updated) or "epsilon_greedy"."""
    n_segments, n_variants = ctr.shape
    trials = np.zeros_like(ctr)
    successes = np.zeros_like(ctr)
    for segment in range(n_segments):
        counts = rng.multinomial(history[segment], [1 / n_variants] * n_variants)
        trials[segment] += counts
        successes[segment] += rng.binomial(counts, reward_rate[segment])
    weights = history / history.sum()
    delay = LABEL_DAYS if policy == "thompson" else 0
    pending, shares = [], []
    for _ in range(days):
        segments = rng.choice(n_segments, size=sends_per_day, p=weights)
        if policy in ("thompson", "frozen"):
            draws = rng.beta(1 + successes[segments], 1 + trials[segments] - successes[segments])
            chosen = draws.argmax(axis=1)
        else:
            greedy = (successes[segments] / np.maximum(trials[segments], 1)).argmax(axis=1)
            explore = rng.random(sends_per_day) < EPSILON
            chosen = np.where(explore, rng.integers(0, n_variants, sends_per_day), greedy)
        shares.append(ctr[segments, chosen].mean() / ctr[segments].max(axis=1).mean())
        rewards = rng.random(sends_per_day) < reward_rate[segments, chosen]
        pending.append((segments, chosen, rewards))
        if policy != "frozen" and len(pending) > delay:
            done_segments, done_chosen, done_rewards = pending.pop(0)
            np.add.at(trials, (done_segments, done_chosen), 1)
            np.add.at(successes, (done_segments, done_chosen), done_rewards)
    return float(np.mean(shares))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", default=str(settings.warehouse_path()))
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    if not Path(args.warehouse).exists():
        sys.exit(f"no warehouse at {args.warehouse}: run `make run` first")
    print(machine_description())
    print(f"load average: {load_average()}")
    with duckdb.connect(args.warehouse, read_only=True) as con:
        per_segment = dict(
            con.execute(
                "select segment, count(*) from features.feat_email_engagement "
                "where label_complete group by segment"
            ).fetchall()
        )
        clicks_per_open = dict(
            con.execute(
                "select segment, sum(clicked_within_7d) / sum(opened_within_7d) "
                "from features.feat_email_engagement where label_complete group by segment"
            ).fetchall()
        )
        days_logged = con.execute(
            "select count(distinct cast(sent_at as date)) from features.feat_email_engagement"
        ).fetchone()[0]
        tables = {family: _ctr_table(con, family) for family in FUNNEL_REWARDS}
    sends_per_day = round(sum(per_segment.values()) / days_logged)
    print(f"{sum(per_segment.values()):,} logged sends, {sends_per_day} a day, {args.days} days")
    for family, reward in FUNNEL_REWARDS.items():
        segments, ctr = tables[family]
        history = np.array([per_segment.get(segment, 0) for segment in segments])
        funnel_rate = _reward_rate(ctr, reward, segments, clicks_per_open)
        results = {}
        for name, rate, policy in (
            ("thompson on clicks", ctr, "thompson"),
            ("thompson on clicks, never updated", ctr, "frozen"),
            (f"thompson on {reward}", funnel_rate, "thompson"),
            ("epsilon-greedy on clicks", ctr, "epsilon_greedy"),
        ):
            shares = [
                simulate(rate, ctr, history, sends_per_day, args.days, policy, rng)
                for rng in map(np.random.default_rng, range(args.seeds))
            ]
            results[name] = (np.mean(shares), np.std(shares) / np.sqrt(len(shares)))
        baseline = results["thompson on clicks"][0]
        for name, (share, error) in results.items():
            print(
                f"{family:<15} {name:<34} {share:6.1%} of the best variant's CTR (± {error:.1%})"
                f"  ratio {share / baseline:.3f}"
            )


def _reward_rate(
    ctr: np.ndarray, reward: str, segments: list[str], clicks_per_open: dict[str, float]
) -> np.ndarray:
    if reward != OPEN_REWARD:
        return ctr
    ratio = np.array([clicks_per_open[segment] for segment in segments])
    return np.clip(ctr / ratio[:, None], 0.0, 1.0)


if __name__ == "__main__":
    main()
