"""The world outside the product: a clock, daily files, and decisions that act on it."""

import hashlib
import shutil

import duckdb
import pandas as pd
import pytest

from roi_assets.simulator import world_config
from roi_assets.simulator.environment import World
from roi_assets.simulator.state import CLOCK_FILE

SEED = 21
TUESDAY_9_LOCAL = 1 * 24 + 9  # hour of the week, local time
DAILY_SOURCES = ("clients", "subscriptions", "email_sends", "email_events", "user_events")
SOURCES = (*DAILY_SOURCES, "market_index")  # the market index is a weekly feed (Mondays)


def _world(folder) -> World:
    return World(
        world_config("tiny", SEED),
        landing_dir=folder / "landing",
        state_dir=folder / "world",
        warehouse_path=folder / "warehouse.duckdb",
        bi_path=folder / "bi.duckdb",
    )


@pytest.fixture(scope="module")
def bootstrapped(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bootstrapped")
    world = _world(folder)
    world.bootstrap()
    return folder


def _copy(bootstrapped, tmp_path) -> World:
    shutil.copytree(bootstrapped, tmp_path, dirs_exist_ok=True)
    return _world(tmp_path)


def _publish(world: World, hour_of_week: int | None, watch_list: list[str]) -> None:
    """What the product's BI copy would hold: a send hour and variants for every client, and a
    30-day churn watch list with an action."""
    ids = world.population.clients.table["client_id"]
    with duckdb.connect(str(world.bi_path)) as con:
        con.execute("create schema if not exists marts")
        if hour_of_week is not None:
            con.register("hours", pd.DataFrame({"client_id": ids, "hour": hour_of_week}))
            con.execute(
                "create or replace table marts.send_time_recommendations as "
                "select client_id, hour as best_hour_of_week_local from hours"
            )
            con.register("variants", pd.DataFrame({"client_id": ids}))
            con.execute(
                "create or replace table marts.content_assignments as select client_id, "
                "'value_focused' as subject_line_variant, 'minimal' as email_template, "
                "'button' as cta_style from variants"
            )
        con.register("listed", pd.DataFrame({"client_id": watch_list}))
        con.execute(
            "create or replace table marts.churn_risk as select client_id, 30 as window_days, "
            "true as on_watch_list, 'low' as tier, 'Call the client' as recommended_action "
            "from listed"
        )


def _day_files(world: World, date) -> dict[str, str]:
    return {
        source: hashlib.sha256(path.read_bytes()).hexdigest()
        for source in SOURCES
        for path in (world.landing_dir / source).glob(f"{source}_{date}.*")
    }


def test_the_bootstrap_writes_one_file_per_source_per_day(bootstrapped):
    world = _world(bootstrapped)
    days = world.config.scale.n_days
    for source in DAILY_SOURCES:
        assert len(list((world.landing_dir / source).glob(f"{source}_*"))) == days
    mondays = len(range(0, days, 7))
    assert len(list((world.landing_dir / "market_index").glob("market_index_*"))) == mondays
    assert world.today() == world.config.start_date + pd.Timedelta(days=days - 1)


def test_advance_writes_exactly_the_next_day(bootstrapped, tmp_path):
    world = _copy(bootstrapped, tmp_path)
    before = world.today()
    report = world.advance()
    assert report.date == before + pd.Timedelta(days=1)
    assert set(_day_files(world, report.date)) == set(DAILY_SOURCES)
    for source in DAILY_SOURCES:
        assert len(list((world.landing_dir / source).glob(f"{source}_*"))) == (
            world.config.scale.n_days + 1
        )


def test_the_product_s_send_hour_and_variants_reach_the_next_day_s_sends(bootstrapped, tmp_path):
    world = _copy(bootstrapped, tmp_path)
    _publish(world, TUESDAY_9_LOCAL, [])
    report = world.advance()
    assert report.sends_decided_by_product > 0
    for _ in range(6):  # decided on a Thursday, they go out on the next Tuesday
        world.advance()
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        product = con.execute(
            "select count(*) filter (decided_by_product), count(*) "
            "from truth.send_policy_probabilities where policy = 'product'"
        ).fetchone()
        decided = {
            row[0]
            for row in con.execute(
                "select send_id from truth.send_policy_probabilities where policy = 'product'"
            ).fetchall()
        }
    assert product[0] == product[1] > 0
    sends = pd.concat(
        pd.read_parquet(p) for p in (world.landing_dir / "email_sends").glob("*.parquet")
    )
    tz = world.population.clients.table.set_index("client_id")["timezone"]
    live = sends[sends["send_id"].isin(decided)]
    local = [
        ts.tz_localize("UTC").tz_convert(tz[c])
        for ts, c in zip(live["sent_at"], live["client_id"], strict=True)
    ]
    assert local, "the first day's decided sends have gone out by now"
    assert {(t.weekday(), t.hour) for t in local} == {(1, 9)}
    assert set(live["subject_line_variant"]) == {"value_focused"}


def test_without_decisions_the_legacy_policy_sends_on_the_day(bootstrapped, tmp_path):
    world = _copy(bootstrapped, tmp_path)
    report = world.advance()
    assert report.sends_decided_by_product == 0
    sends = pd.read_parquet(
        world.landing_dir / "email_sends" / f"email_sends_{report.date}.parquet"
    )
    assert len(sends) > 0
    assert (sends["sent_at"].dt.date == report.date).all()


def test_every_live_send_carries_the_counterfactual_policies(bootstrapped, tmp_path):
    world = _copy(bootstrapped, tmp_path)
    _publish(world, TUESDAY_9_LOCAL, [])
    world.advance()
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        per_send = con.execute(
            "select count(distinct policy), min(p_open), max(p_open) "
            "from truth.send_policy_probabilities group by send_id"
        ).fetchall()
        oracle_beats_random = con.execute(
            "select avg(p_open) filter (policy = 'oracle_hour') "
            "> avg(p_open) filter (policy = 'random_hour') from truth.send_policy_probabilities"
        ).fetchone()[0]
    assert {n for n, _, _ in per_send} == {9}  # with the engagement-hour yardstick
    assert all(0 < low <= high < 1 for _, low, high in per_send)
    assert oracle_beats_random


def test_a_retention_action_lowers_the_listed_clients_hazard(bootstrapped, tmp_path):
    world = _copy(bootstrapped, tmp_path)
    state = world.state()
    active = world.population.clients.table["client_id"][
        (world.population.clients.signup_day <= state.next_day) & (state.churn_day > state.next_day)
    ]
    listed = list(active[:5])
    _publish(world, None, listed)
    report = world.advance()
    assert report.retention_actions == 5
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        actions = con.execute("select * from truth.retention_actions").df()
    assert set(actions["client_id"]) == set(listed)
    assert (actions["p_churn_30_with"] < actions["p_churn_30_without"]).all()
    assert (world.state().retention_until[[int(c[1:]) for c in listed]] > state.next_day).all()


def test_a_day_drawn_again_after_a_crash_writes_the_same_files_and_truth_once(
    bootstrapped, tmp_path
):
    world = _copy(bootstrapped, tmp_path)
    _publish(world, TUESDAY_9_LOCAL, [])
    clock = (world.state_dir / CLOCK_FILE).read_text()
    first = world.advance()
    files = _day_files(world, first.date)
    # the process died after writing the day but before its clock moved on
    (world.state_dir / CLOCK_FILE).write_text(clock)
    again = world.advance()
    assert again.date == first.date
    assert _day_files(world, first.date) == files
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        sends = con.execute(
            "select count(*), count(distinct send_id) from truth.email_send_probabilities"
        ).fetchone()
    assert sends[0] == sends[1]


def test_the_same_seed_advances_into_the_same_day(bootstrapped, tmp_path):
    one = _copy(bootstrapped, tmp_path / "one")
    two = _copy(bootstrapped, tmp_path / "two")
    date = one.advance().date
    two.advance()
    assert _day_files(one, date) == _day_files(two, date)
