"""The world as an environment with a clock, outside the product.

`bootstrap()` writes the history the agency lived before the product (habitual send hours,
variants drawn at random, nobody called about churn), one file per source per day. `advance()`
writes one more day, reading first what the product published in its BI copy: those decisions
shape the day's sends and retention actions. The truth of each day (probabilities under the
decision taken and under the policies it is judged against) goes to the warehouse's `truth`
schema, which only the evaluation module reads.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from roi_assets.simulator import catalog
from roi_assets.simulator.daily_files import schedule_deliveries, write_day_files
from roi_assets.simulator.day import DayDraw, draw_day, world_level
from roi_assets.simulator.decisions import read_decisions
from roi_assets.simulator.documents.world import (
    daily_arrivals,
    document_plan,
    known_documents,
    write_document_landing,
    write_document_truth,
)
from roi_assets.simulator.population import Population, draw_population
from roi_assets.simulator.scales import WorldConfig
from roi_assets.simulator.send_time_truth import hour_probabilities
from roi_assets.simulator.state import WorldState
from roi_assets.simulator.truth import append_truth_rows, replace_truth_table

MAX_CLIENTS_WITH_HOUR_TRUTH = 10_000
DOCUMENTS_PER_LIVE_DAY = 2
WORLD_MARKER = "_world.json"
# Truth tables that grow by day, and the column naming the day of each row.
DAILY_TRUTH = {
    "email_send_probabilities": "sent_date",
    "send_policy_probabilities": "decision_date",
    "churn_probabilities": "snapshot_date",
    "retention_actions": "action_date",
    "retention_random_list": "action_date",
}


@dataclass
class DayReport:
    """What one day of the world wrote."""

    date: dt.date
    rows: dict[str, int]
    sends_decided_by_product: int = 0
    retention_actions: int = 0
    documents: int = 0
    truth_rows: dict[str, int] = field(default_factory=dict)


class World:
    """A simulated world writing a landing zone day by day; its state lives in `state_dir`."""

    def __init__(
        self,
        config: WorldConfig,
        landing_dir: Path,
        state_dir: Path,
        warehouse_path: Path,
        bi_path: Path | None = None,
    ) -> None:
        self.config = config
        self.landing_dir = Path(landing_dir)
        self.state_dir = Path(state_dir)
        self.warehouse_path = Path(warehouse_path)
        self.bi_path = Path(bi_path) if bi_path else None

    @cached_property
    def population(self) -> Population:
        return draw_population(self.config)

    @property
    def bootstrap_days(self) -> int:
        return self.config.scale.n_days

    def state(self) -> WorldState | None:
        return WorldState.load(self.state_dir)

    def today(self) -> dt.date | None:
        """The last day written, None before the bootstrap."""
        state = self.state()
        return None if state is None else self.population.date(state.next_day - 1)

    def bootstrap(self) -> list[DayReport]:
        """Write the legacy history (the days not written yet) and its truth."""
        self._claim_landing_zone()
        state = self.state() or WorldState.fresh(self.population.n_clients)
        reports, truth = [], {name: [] for name in DAILY_TRUTH}
        while state.next_day < self.bootstrap_days:
            draw, report = self._write_day(state, decisions=None)
            for name, frame in _truth_frames(draw, self.population, state.next_day).items():
                truth[name].append(frame)
            state.next_day += 1
            reports.append(report)
        with duckdb.connect(str(self.warehouse_path)) as con:
            for name, frames in truth.items():
                frames = [f for f in frames if not f.empty]
                if frames:
                    append_truth_rows(con, name, pd.concat(frames), DAILY_TRUTH[name])
            self._write_state_truth(con, state)
            self._write_documents(con, None)
        if reports:
            state.save(self.state_dir)
        return reports

    def advance(self) -> DayReport:
        """Write the next day, acting on the product's published decisions."""
        state = self.state()
        if state is None or state.next_day < self.bootstrap_days:
            raise RuntimeError("the world has no history yet: run bootstrap first")
        if state.next_day > self.population.last_day:
            raise RuntimeError(
                f"the world ends on {self.population.date(self.population.last_day)}"
            )
        ids = self.population.clients.table["client_id"].to_numpy()
        decisions = read_decisions(self.bi_path, ids) if self.bi_path else None
        draw, report = self._write_day(state, decisions)
        day = state.next_day
        with duckdb.connect(str(self.warehouse_path)) as con:
            for name, frame in _truth_frames(draw, self.population, day).items():
                report.truth_rows[name] = append_truth_rows(con, name, frame, DAILY_TRUTH[name])
            self._write_state_truth(con, state)
            report.documents = self._write_documents(con, day - self.bootstrap_days)
        state.next_day += 1
        state.save(self.state_dir)
        return report

    def _write_day(self, state: WorldState, decisions) -> tuple[DayDraw, DayReport]:
        day = state.next_day
        draw = draw_day(self.population, state, day, decisions)
        rng = np.random.default_rng([self.config.seed, 3, day])
        schedule_deliveries(state.pending, draw.sends, draw.email_events, self.population, rng)
        rows = write_day_files(
            self.landing_dir,
            self.population,
            day,
            state.pending,
            draw.user_events,
            draw.new_client_idx,
            draw.churned_client_idx,
            state.churn_day,
            state.next_event_id,
            rng,
        )
        state.next_event_id += len(draw.user_events)
        decided = 0
        if not draw.policy_truth.empty:
            product = draw.policy_truth[draw.policy_truth["policy"] == "product"]
            decided = int(product["decided_by_product"].sum())
        report = DayReport(self.population.date(day), rows, decided, len(draw.retention_truth))
        return draw, report

    def _write_state_truth(self, con: duckdb.DuckDBPyConnection, state: WorldState) -> None:
        """Truth tables that describe the world as it stands: replaced each day."""
        world = self.population
        day = state.next_day - 1 if state.next_day > 0 else 0
        replace_truth_table(con, "client_traits", _traits(world, state))
        best, hours = _send_time_truth(world, day)
        replace_truth_table(con, "best_send_hours", best)
        replace_truth_table(con, "send_hour_probabilities", hours)
        replace_truth_table(con, "content_ctr", _content_ctr(state))

    def _write_documents(self, con: duckdb.DuckDBPyConnection, live_day: int | None) -> int:
        """The bootstrap's archive and arrivals, or a live day's new arrivals."""
        plan = document_plan(self.config.scale, self.config.seed)
        documents = (
            None if live_day is None else daily_arrivals(plan, live_day, DOCUMENTS_PER_LIVE_DAY)
        )
        landing = write_document_landing(
            plan, self.landing_dir, known_documents(con), documents, workers=os.cpu_count() or 1
        )
        write_document_truth(con, landing)
        return len(landing.files_written)

    def _claim_landing_zone(self) -> None:
        """One landing zone holds one world: refuse to mix two worlds' files."""
        self.landing_dir.mkdir(parents=True, exist_ok=True)
        marker = self.landing_dir / WORLD_MARKER
        fingerprint = self.config.fingerprint()
        if marker.exists():
            existing = json.loads(marker.read_text())
            if existing != fingerprint:
                raise ValueError(
                    f"{self.landing_dir} already holds another simulated world ({existing}); "
                    "point ROI_DATA_DIR or ROI_LANDING_DIR at an empty folder for a new one"
                )
            return
        marker.write_text(json.dumps(fingerprint, indent=2))


def _truth_frames(draw: DayDraw, world: Population, day: int) -> dict[str, pd.DataFrame]:
    saves = pd.DataFrame(
        {
            "action_date": [world.date(day)],
            "list_size": [len(draw.retention_truth)],
            "expected_saves": [draw.random_list_saves],
        }
    )
    return {
        "email_send_probabilities": draw.send_truth.assign(sent_date=world.date(day)),
        "send_policy_probabilities": draw.policy_truth,
        "churn_probabilities": draw.churn_truth,
        "retention_actions": draw.retention_truth,
        "retention_random_list": saves if len(draw.retention_truth) else pd.DataFrame(),
    }


def _traits(world: Population, state: WorldState) -> pd.DataFrame:
    clients = world.clients
    return pd.DataFrame(
        {
            "client_id": clients.table["client_id"].to_numpy(),
            "propensity": clients.propensity,
            "chronotype": clients.chronotype,
            "activity": clients.activity,
            "satisfaction": clients.satisfaction,
            "competitor_interest": clients.competitor_interest,
            "decline_onset_day": np.where(
                np.isfinite(clients.decline_onset_day), clients.decline_onset_day, np.nan
            ),
            "churn_day": np.where(np.isfinite(state.churn_day), state.churn_day, np.nan),
        }
    )


def _send_time_truth(world: Population, day: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each client's true open probability at every local hour of the week, as of `day`."""
    config, clients = world.config, world.clients
    drifted = config.drift is not None and day >= config.drift.start_day
    shift = config.drift.hour_shift if drifted else 0
    p_open, p_click = hour_probabilities(
        clients.propensity, clients.chronotype, world_level(world, day), shift
    )
    best_local = p_open.argmax(axis=1)
    utc_offset = world.utc_offsets[clients.region_index, day]
    ids = clients.table["client_id"].to_numpy()
    best = pd.DataFrame(
        {
            "client_id": ids,
            "best_hour_of_week_local": best_local,
            "best_hour_of_week_utc": (best_local - utc_offset) % 168,
            "p_open_best": p_open.max(axis=1),
            "p_open_mean": p_open.mean(axis=1),
            "p_click_best": p_click[np.arange(len(ids)), best_local],
        }
    )
    keep = min(len(ids), MAX_CLIENTS_WITH_HOUR_TRUTH)
    hours = pd.DataFrame(
        {
            "client_id": np.repeat(ids[:keep], 168),
            "hour_of_week_local": np.tile(np.arange(168), keep),
            "p_open": p_open[:keep].ravel(),
            "p_click": p_click[:keep].ravel(),
        }
    )
    return best, hours


def _content_ctr(state: WorldState) -> pd.DataFrame:
    rows = []
    for f, (family, variants) in enumerate(catalog.CONTENT_VARIANTS.items()):
        for s, segment in enumerate(catalog.SEGMENTS):
            for v, variant in enumerate(variants):
                if state.segment_counts[s] > 0:
                    ctr = state.ctr_sums[f, s, v] / state.segment_counts[s]
                    rows.append((segment, family, variant, ctr))
    return pd.DataFrame(rows, columns=["segment", "family", "variant", "true_ctr"])
