import hashlib

import numpy as np
import pandas as pd
import pytest

from roi_assets.simulator import Drift, simulate_world, world_config
from roi_assets.simulator.behaviour import chronotype_hour_effect
from roi_assets.simulator.population import draw_population


def _digest(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    return landing, simulate_world(world_config("tiny", 11), landing)


def test_the_same_seed_gives_the_same_world(tiny, tmp_path):
    landing, first = tiny
    second = simulate_world(world_config("tiny", 11), tmp_path)
    assert _digest(landing) == _digest(tmp_path)
    pd.testing.assert_frame_equal(
        first.truth.email_send_probabilities, second.truth.email_send_probabilities
    )


def test_another_seed_gives_another_world(tiny, tmp_path):
    _, first = tiny
    other = simulate_world(world_config("tiny", 12), tmp_path)
    assert not first.truth.email_send_probabilities["p_open"].equals(
        other.truth.email_send_probabilities["p_open"]
    )


def test_observed_open_rates_match_the_true_probabilities_by_hour_of_day(tmp_path):
    world = world_config("default", 3)
    result = simulate_world(world, tmp_path)
    sends = pd.concat(pd.read_parquet(p) for p in (tmp_path / "email_sends").rglob("*.parquet"))
    events = pd.concat(
        pd.read_json(p, lines=True, dtype=False)
        for p in (tmp_path / "email_events").rglob("*.jsonl")
    )
    opened = set(events.loc[events["event_type"] == "open", "send_id"])
    truth = result.truth.email_send_probabilities.set_index("send_id")
    sends = sends.assign(
        opened=sends["send_id"].isin(opened),
        p_open=truth.loc[sends["send_id"], "p_open"].to_numpy(),
    )
    by_hour = sends.groupby(sends["sent_at"].dt.hour).agg(
        observed=("opened", "sum"),
        expected=("p_open", "sum"),
        variance=("p_open", lambda p: float((p * (1 - p)).sum())),
    )
    z = (by_hour["observed"] - by_hour["expected"]) / np.sqrt(by_hour["variance"])
    assert (z.abs() < 4.5).all(), z
    overall = sends["opened"].mean()
    assert 0.18 < overall < 0.30  # the design's realistic open rate
    assert by_hour["expected"].div(sends.groupby(sends["sent_at"].dt.hour).size()).std() > 0.02


def test_churn_labels_follow_the_true_30_day_probabilities(tiny):
    _, result = tiny
    traits = result.truth.client_traits.set_index("client_id")
    truth = result.truth.churn_probabilities.query("window_days == 30")
    start = pd.Timestamp("2025-01-06")
    snapshot_day = (pd.to_datetime(truth["snapshot_date"]) - start).dt.days
    churn_day = traits.loc[truth["client_id"], "churn_day"].to_numpy()
    churned = (churn_day > snapshot_day) & (churn_day <= snapshot_day + 30)
    observable = snapshot_day + 30 < 150
    observed, expected = churned[observable].sum(), truth["p_churn"][observable].sum()
    variance = (truth["p_churn"] * (1 - truth["p_churn"]))[observable].sum()
    assert abs(observed - expected) < 4 * np.sqrt(variance)


def test_existing_landing_files_are_never_rewritten(tiny):
    landing, _ = tiny
    before = {p: p.stat().st_mtime_ns for p in landing.rglob("*") if p.is_file()}
    again = simulate_world(world_config("tiny", 11), landing)
    assert again.files_written == []
    assert before == {p: p.stat().st_mtime_ns for p in landing.rglob("*") if p.is_file()}


def test_a_landing_zone_refuses_a_second_world(tiny):
    landing, _ = tiny
    with pytest.raises(ValueError, match="another simulated world"):
        simulate_world(world_config("tiny", 99), landing)


def test_the_drift_switch_shifts_subject_lengths_from_its_start_day(tmp_path):
    config = world_config("tiny", 11, drift=Drift(start_day=75))
    simulate_world(config, tmp_path)
    sends = pd.concat(pd.read_parquet(p) for p in (tmp_path / "email_sends").rglob("*.parquet"))
    cut = pd.Timestamp(config.start_date) + pd.Timedelta(days=75)
    before = sends.loc[sends["sent_at"] < cut - pd.Timedelta(days=1), "subject_length"].mean()
    after = sends.loc[sends["sent_at"] >= cut + pd.Timedelta(days=1), "subject_length"].mean()
    assert after - before > 15


def _local_hour_of_week(frame: pd.DataFrame, zones: pd.Series) -> np.ndarray:
    """Local hour of week (0 = Monday 00:00) of each row's UTC `occurred_at`."""
    utc = pd.to_datetime(frame["occurred_at"], utc=True)
    local = [
        at.tz_convert(zone) for at, zone in zip(utc, zones.loc[frame["client_id"]], strict=True)
    ]
    return np.array([t.dayofweek * 24 + t.hour for t in local])


def test_platform_sessions_and_opens_cluster_in_each_clients_active_hours(tiny):
    landing, _ = tiny
    world = draw_population(world_config("tiny", 11))
    windows = chronotype_hour_effect() > 0  # (types, 168): each chronotype's window
    table = world.clients.table.set_index("client_id")
    chronotype = pd.Series(world.clients.chronotype, index=table.index)
    sessions = pd.concat(pd.read_parquet(p) for p in (landing / "user_events").glob("*.parquet"))
    sessions = sessions[sessions["event_type"].isin(["login", "document_view"])]
    events = pd.concat(
        pd.read_json(p, lines=True, dtype=False) for p in (landing / "email_events").glob("*.jsonl")
    )
    # the landing zone plants a few malformed webhooks: left out here, as ingestion quarantines them
    events["occurred_at"] = pd.to_datetime(events["occurred_at"], errors="coerce", utc=True)
    opens = events[(events["event_type"] == "open") & events["occurred_at"].notna()]
    # a window covers 6 to 21 of the week's 112 waking hours: at random, under a fifth lands in it;
    # opens also come soon after a send at any waking hour, so they cluster less than sessions
    for frame, least in ((sessions, 0.35), (opens, 0.25)):
        hours = _local_hour_of_week(frame, table["timezone"])
        in_window = windows[chronotype.loc[frame["client_id"]].to_numpy(), hours]
        assert in_window.mean() > least, in_window.mean()
    # and every client type is reached outside its window too (noise, not a rule)
    hours = _local_hour_of_week(sessions, table["timezone"])
    assert (~windows[chronotype.loc[sessions["client_id"]].to_numpy(), hours]).mean() > 0.3
