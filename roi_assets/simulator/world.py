"""Simulate a whole world: landing files for every source and the truth they were drawn from.

Clients are drawn once; their activity, sends and churn are drawn chunk by chunk (bounded memory
at the `large` scale), each chunk with its own seeded generator so the world is the same whatever
the machine.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from roi_assets.simulator import catalog
from roi_assets.simulator.activity import (
    Activity,
    market_volatility,
    simulate_activity,
    subscriptions_table,
)
from roi_assets.simulator.clients import Clients, draw_clients, utc_offset_hours
from roi_assets.simulator.emails import (
    Sends,
    draw_content_taste,
    simulate_sends,
    us_holiday_days,
)
from roi_assets.simulator.landing import (
    by_month,
    corrupt_some_webhooks,
    write_csv,
    write_json_lines,
    write_parquet,
)
from roi_assets.simulator.scales import WorldConfig
from roi_assets.simulator.send_time_truth import hour_probabilities
from roi_assets.simulator.truth import Truth

SNAPSHOT_FIRST_DAY = (
    28  # weekly churn snapshots: Mondays from day 28 on (the world starts on a Monday)
)
CHURN_WINDOWS = (30, 60, 90)
MAX_CLIENTS_WITH_HOUR_TRUTH = 10_000
WORLD_MARKER = "_world.json"


@dataclass
class SimulationResult:
    truth: Truth
    files_written: list[Path] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)


def snapshot_days(n_days: int) -> np.ndarray:
    return np.arange(SNAPSHOT_FIRST_DAY, n_days, 7)


def simulate_world(config: WorldConfig, landing_dir: Path) -> SimulationResult:
    """Write the world's landing files (those not there yet) and return its truth."""
    _claim_landing_zone(config, landing_dir)
    rng = np.random.default_rng([config.seed, 0])
    clients = draw_clients(config, rng)
    taste = draw_content_taste(rng)
    volatility = market_volatility(config, rng)
    offsets = utc_offset_hours(config, config.scale.n_days)
    holiday_days = us_holiday_days(config)

    result = SimulationResult(truth=None)  # type: ignore[arg-type]
    collected: dict[str, list[pd.DataFrame]] = {
        k: [] for k in ("sends", "churn", "best", "hours", "traits")
    }
    ctr_sums = np.zeros((3, len(catalog.SEGMENTS), 5))
    segment_counts = np.zeros(len(catalog.SEGMENTS))
    counts = {"clients": 0, "email_sends": 0, "email_events": 0, "user_events": 0}
    send_offset = event_offset = 0
    chunk_size = config.scale.clients_per_chunk
    for chunk, start in enumerate(range(0, len(clients), chunk_size)):
        part = _slice(clients, start, start + chunk_size)
        chunk_rng = np.random.default_rng([config.seed, 1, chunk])
        activity = simulate_activity(part, config, volatility, offsets, chunk_rng)
        sends = simulate_sends(
            part, activity, config, taste, offsets, holiday_days, send_offset, chunk_rng
        )
        send_offset += len(sends.table)
        written = _write_chunk(
            landing_dir, chunk, part, activity, sends, config, event_offset, chunk_rng
        )
        result.files_written.extend(written)
        event_offset += len(activity.events)
        counts["clients"] += len(part)
        counts["email_sends"] += len(sends.table)
        counts["email_events"] += len(sends.outcomes)
        counts["user_events"] += len(activity.events)
        collected["sends"].append(
            sends.table[["send_id", "client_id", "sent_at"]].assign(
                p_open=sends.p_open, p_click=sends.p_click
            )
        )
        collected["churn"].append(_churn_truth(part, activity, config))
        best, hours = _send_time_truth(part, activity, config, offsets, start)
        collected["best"].append(best)
        collected["hours"].append(hours)
        collected["traits"].append(_traits(part, activity))
        ctr_sums += sends.ctr_sums
        segment_counts += sends.segment_counts

    market = _market_index(config, volatility)
    if write_csv(landing_dir / "market_index" / "market_index.csv", market):
        result.files_written.append(landing_dir / "market_index" / "market_index.csv")
    result.truth = Truth(
        email_send_probabilities=pd.concat(collected["sends"], ignore_index=True),
        churn_probabilities=pd.concat(collected["churn"], ignore_index=True),
        best_send_hours=pd.concat(collected["best"], ignore_index=True),
        send_hour_probabilities=pd.concat(collected["hours"], ignore_index=True),
        content_ctr=_content_ctr(ctr_sums, segment_counts),
        client_traits=pd.concat(collected["traits"], ignore_index=True),
    )
    result.row_counts = counts
    return result


def _claim_landing_zone(config: WorldConfig, landing_dir: Path) -> None:
    """One landing zone holds one world: refuse to mix two worlds' files."""
    landing_dir.mkdir(parents=True, exist_ok=True)
    marker = landing_dir / WORLD_MARKER
    fingerprint = config.fingerprint()
    if marker.exists():
        existing = json.loads(marker.read_text())
        if existing != fingerprint:
            raise ValueError(
                f"{landing_dir} already holds another simulated world ({existing}); "
                "point ROI_DATA_DIR or ROI_LANDING_DIR at an empty folder to simulate a new one"
            )
        return
    marker.write_text(json.dumps(fingerprint, indent=2))


def _slice(clients: Clients, start: int, stop: int) -> Clients:
    return Clients(
        table=clients.table.iloc[start:stop].reset_index(drop=True),
        **{
            name: getattr(clients, name)[start:stop]
            for name in (
                "signup_day",
                "region_index",
                "chronotype",
                "propensity",
                "activity",
                "satisfaction",
                "competitor_interest",
                "decline_onset_day",
                "decline_time_constant",
            )
        },
    )


def _write_chunk(
    landing_dir: Path,
    chunk: int,
    clients: Clients,
    activity: Activity,
    sends: Sends,
    config: WorldConfig,
    event_offset: int,
    rng: np.random.Generator,
) -> list[Path]:
    written: list[Path] = []
    name = f"chunk{chunk:04d}"

    def keep(path: Path, did_write: bool) -> None:
        if did_write:
            written.append(path)

    # CRM exports carry the odd hand-typed bad row: ingestion must quarantine it.
    typo = clients.table.iloc[[int(rng.integers(0, len(clients)))]].assign(
        client_id=f"X{chunk:07d}", geographic_region="atlantis"
    )
    crm = pd.concat([clients.table, typo], ignore_index=True)
    path = landing_dir / "clients" / f"clients_{name}.csv"
    keep(path, write_csv(path, crm))
    path = landing_dir / "subscriptions" / f"subscriptions_{name}.csv"
    keep(path, write_csv(path, subscriptions_table(clients, activity, config)))

    for month, part in by_month(sends.table.drop(columns=["client_idx"]), "sent_at").items():
        path = landing_dir / "email_sends" / f"month={month}" / f"{name}.parquet"
        keep(path, write_parquet(path, part))

    outcomes = sends.outcomes.assign(
        event_id=lambda f: f["send_id"] + "-" + f["event_type"],
        occurred_at=lambda f: f["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    months = sends.outcomes["occurred_at"].dt.strftime("%Y-%m")
    for month, part in outcomes.groupby(months, sort=True):
        records = corrupt_some_webhooks(part.to_dict("records"), rng)
        path = landing_dir / "email_events" / f"month={month}" / f"{name}.jsonl"
        keep(path, write_json_lines(path, records))

    events = activity.events.assign(
        event_id=np.arange(event_offset, event_offset + len(activity.events), dtype=np.int64),
        client_id=clients.table["client_id"].to_numpy()[activity.events["client_idx"]],
    ).drop(columns=["client_idx"])
    ordered = [
        "event_id",
        "client_id",
        "event_type",
        "occurred_at",
        "feature_name",
        "sentiment",
        "nps_score",
        "size_mb",
        "duration_minutes",
    ]
    for month, part in by_month(events[ordered], "occurred_at").items():
        path = landing_dir / "user_events" / f"month={month}" / f"{name}.parquet"
        keep(path, write_parquet(path, part))
    return written


def _churn_truth(clients: Clients, activity: Activity, config: WorldConfig) -> pd.DataFrame:
    frames = []
    ids = clients.table["client_id"].to_numpy()
    for day in snapshot_days(config.scale.n_days):
        active = (clients.signup_day <= day) & (activity.churn_day > day)
        date = config.start_date + dt.timedelta(days=int(day))
        for window in CHURN_WINDOWS:
            increment = (
                activity.cumulative_hazard[active, day + window]
                - activity.cumulative_hazard[active, day]
            )
            frames.append(
                pd.DataFrame(
                    {
                        "client_id": ids[active],
                        "snapshot_date": date,
                        "window_days": window,
                        "p_churn": 1.0 - np.exp(-increment),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def _send_time_truth(
    clients: Clients,
    activity: Activity,
    config: WorldConfig,
    offsets: np.ndarray,
    first_index: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    last_day = config.scale.n_days - 1
    shift = config.drift.hour_shift if config.drift else 0
    level = activity.engagement[:, last_day]
    p_open, p_click = hour_probabilities(clients.propensity, clients.chronotype, level, shift)
    best_local = p_open.argmax(axis=1)
    utc_offset = offsets[clients.region_index, last_day]
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
    keep = max(0, min(len(ids), MAX_CLIENTS_WITH_HOUR_TRUTH - first_index))
    hours = pd.DataFrame(
        {
            "client_id": np.repeat(ids[:keep], 168),
            "hour_of_week_local": np.tile(np.arange(168), keep),
            "p_open": p_open[:keep].ravel(),
            "p_click": p_click[:keep].ravel(),
        }
    )
    return best, hours


def _traits(clients: Clients, activity: Activity) -> pd.DataFrame:
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
            "churn_day": np.where(np.isfinite(activity.churn_day), activity.churn_day, np.nan),
        }
    )


def _content_ctr(ctr_sums: np.ndarray, segment_counts: np.ndarray) -> pd.DataFrame:
    rows = []
    for f, (family, variants) in enumerate(catalog.CONTENT_VARIANTS.items()):
        for s, segment in enumerate(catalog.SEGMENTS):
            for v, variant in enumerate(variants):
                if segment_counts[s] > 0:
                    rows.append((segment, family, variant, ctr_sums[f, s, v] / segment_counts[s]))
    return pd.DataFrame(rows, columns=["segment", "family", "variant", "true_ctr"])


def _market_index(config: WorldConfig, volatility: np.ndarray) -> pd.DataFrame:
    rows = []
    for r, region in enumerate(catalog.REGIONS):
        for w in range(volatility.shape[1]):
            week = config.start_date + dt.timedelta(weeks=w)
            if week < config.end_date:
                rows.append((region, week, round(float(volatility[r, w]), 4)))
    return pd.DataFrame(rows, columns=["geographic_region", "week_start", "volatility_index"])
