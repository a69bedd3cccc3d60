"""The world's clock and memory between days, saved after each completed day.

Each completed day's state goes to its own folder (`day-NNNN/`) and `clock.json` then names it, so
a world killed in the middle of a day restarts from the last completed one: the day is drawn
again from the same seeds and its landing files, written once, are left as they were.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from roi_assets.simulator.policies import RETENTION_EFFECT, EpsilonGreedy

CLOCK_FILE = "clock.json"
HOURS_PER_WEEK = 168
KEEP_DAYS = 3  # older day folders are removed once a newer one is complete


@dataclass
class WorldState:
    """Per-client memory (arrays of n_clients) and what is due on later days."""

    next_day: int
    cumulative_hazard: np.ndarray
    churn_day: np.ndarray  # np.inf while the client is active
    last_login_day: np.ndarray
    retention_until: np.ndarray  # last day of the running retention action, -1 when none
    epsilon_greedy: EpsilonGreedy
    # per family, segment and variant: the sum of the sends' true CTR with that variant put in,
    # and sends per segment; their ratio is truth.content_ctr
    ctr_sums: np.ndarray
    segment_counts: np.ndarray
    # emails each client left unopened since its last open (fatigue, behaviour.fatigue_logit)
    unopened_in_a_row: np.ndarray
    # per client and local hour of week, the opens, logins and document views seen so far: what
    # the engagement-hour yardstick reads
    engagement_counts: np.ndarray
    next_send_id: int = 0
    next_event_id: int = 0
    # sends and webhook events already drawn whose time (or delivery) falls on a later day
    pending: dict[str, pd.DataFrame] | None = None

    @classmethod
    def fresh(cls, n_clients: int) -> WorldState:
        return cls(
            next_day=0,
            cumulative_hazard=np.zeros(n_clients),
            churn_day=np.full(n_clients, np.inf),
            last_login_day=np.full(n_clients, -10_000, dtype=np.int64),
            retention_until=np.full(n_clients, -1, dtype=np.int64),
            epsilon_greedy=EpsilonGreedy.empty(),
            ctr_sums=np.zeros(EpsilonGreedy.empty().trials.shape),
            segment_counts=np.zeros(EpsilonGreedy.empty().trials.shape[1]),
            unopened_in_a_row=np.zeros(n_clients, dtype=np.int64),
            engagement_counts=np.zeros((n_clients, HOURS_PER_WEEK), dtype=np.float32),
            pending={},
        )

    def hazard_factor(self, day: int) -> np.ndarray:
        """Multiplier of each client's hazard on `day` (below 1 under a retention action)."""
        return np.where(self.retention_until >= day, 1.0 - RETENTION_EFFECT, 1.0)

    def save(self, folder: Path) -> None:
        """Write this state as the last completed day's, then point the clock at it."""
        day_folder = folder / f"day-{self.next_day - 1:04d}"
        partial = folder / f".{day_folder.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        np.savez(
            partial / "arrays.npz",
            cumulative_hazard=self.cumulative_hazard,
            churn_day=self.churn_day,
            last_login_day=self.last_login_day,
            retention_until=self.retention_until,
            trials=self.epsilon_greedy.trials,
            clicks=self.epsilon_greedy.clicks,
            ctr_sums=self.ctr_sums,
            segment_counts=self.segment_counts,
            unopened_in_a_row=self.unopened_in_a_row,
            engagement_counts=self.engagement_counts,
        )
        for name, frame in (self.pending or {}).items():
            frame.to_parquet(partial / f"pending_{name}.parquet", index=False)
        counters = {"next_send_id": self.next_send_id, "next_event_id": self.next_event_id}
        (partial / "counters.json").write_text(json.dumps(counters))
        shutil.rmtree(day_folder, ignore_errors=True)
        os.replace(partial, day_folder)
        _write_atomically(
            folder / CLOCK_FILE, {"next_day": self.next_day, "folder": day_folder.name}
        )
        for old in sorted(folder.glob("day-*"))[:-KEEP_DAYS]:
            shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> WorldState | None:
        """The last completed day's state; None when the world has not started."""
        clock = folder / CLOCK_FILE
        if not clock.exists():
            return None
        pointer = json.loads(clock.read_text())
        day_folder = folder / pointer["folder"]
        arrays = np.load(day_folder / "arrays.npz")
        counters = json.loads((day_folder / "counters.json").read_text())
        pending = {
            path.stem.removeprefix("pending_"): pd.read_parquet(path)
            for path in day_folder.glob("pending_*.parquet")
        }
        return cls(
            next_day=pointer["next_day"],
            cumulative_hazard=arrays["cumulative_hazard"],
            churn_day=arrays["churn_day"],
            last_login_day=arrays["last_login_day"],
            retention_until=arrays["retention_until"],
            epsilon_greedy=EpsilonGreedy(arrays["trials"], arrays["clicks"]),
            ctr_sums=arrays["ctr_sums"],
            segment_counts=arrays["segment_counts"],
            unopened_in_a_row=arrays["unopened_in_a_row"],
            engagement_counts=arrays["engagement_counts"],
            pending=pending,
            **counters,
        )


def _write_atomically(path: Path, content: dict) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(json.dumps(content))
    os.replace(temporary, path)
