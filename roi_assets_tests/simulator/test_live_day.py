"""One live day at the tiny scale: the product's morning, as the daemon would run it, publishes
decisions that the world's next day acts on."""

import dagster as dg
import duckdb

from roi_assets import settings
from roi_assets.definitions import defs
from roi_assets.simulator.__main__ import default_world
from roi_assets.simulator.live import play_morning


def test_a_morning_s_published_decisions_shape_the_world_s_next_day(
    lived_instance, materialized_world
):
    # `make run` ends by publishing the BI copy
    assert defs.resolve_job_def("publish_bi").execute_in_process(instance=lived_instance).success
    world = default_world()
    history_published = _recommendations_scored_at()
    first = world.advance()
    # the history run's published send hours already decide the first live day's sends
    assert first.sends_decided_by_product > 0
    seconds: dict[str, float] = {}
    outcomes = play_morning(lived_instance, first.date, {}, seconds)
    # gates may hold candidates back on so small a world; no run breaks
    assert outcomes["success"] > 0 and outcomes["failure"] == 0
    assert {"ingest_daily", "daily_refit", "advance_deployments", "publish_bi"} <= set(seconds)
    ingested = lived_instance.get_materialized_partitions(dg.AssetKey(["raw", "email_sends"]))
    assert str(first.date) in ingested
    with duckdb.connect(str(settings.bi_warehouse_path()), read_only=True) as con:
        assigned = con.execute("select count(*) from marts.content_assignments").fetchone()[0]
    assert assigned > 0
    assert _recommendations_scored_at() > history_published  # the morning re-decided
    second = world.advance()
    assert second.sends_decided_by_product > 0


def _recommendations_scored_at():
    """When the send hours in the BI copy (what the world reads) were decided."""
    with duckdb.connect(str(settings.bi_warehouse_path()), read_only=True) as con:
        latest = con.execute("select max(scored_at) from marts.send_time_recommendations")
        return latest.fetchone()[0]
