"""One live day at the tiny scale: the product's morning, as the daemon would run it, publishes
decisions that the world's next day acts on."""

import dagster as dg
import duckdb

from roi_assets import settings
from roi_assets.simulator.__main__ import default_world
from roi_assets.simulator.live import play_morning


def test_a_morning_s_published_decisions_shape_the_world_s_next_day(
    lived_instance, materialized_world
):
    world = default_world()
    first = world.advance()
    assert first.sends_decided_by_product == 0  # nothing published yet
    seconds: dict[str, float] = {}
    outcomes = play_morning(lived_instance, first.date, {}, seconds)
    assert outcomes["success"] > 0
    assert {"ingest_daily", "daily_refit", "advance_deployments", "publish_bi"} <= set(seconds)
    ingested = lived_instance.get_materialized_partitions(dg.AssetKey(["raw", "email_sends"]))
    assert str(first.date) in ingested
    with duckdb.connect(str(settings.bi_warehouse_path()), read_only=True) as con:
        assigned = con.execute("select count(*) from marts.content_assignments").fetchone()[0]
    assert assigned > 0
    second = world.advance()
    assert second.sends_decided_by_product > 0
