import datetime as dt

import dagster as dg

from roi_assets import settings
from roi_assets.automation.catch_up import days_to_ingest, landed_dates


def test_landed_dates_come_from_the_daily_file_names(tmp_path):
    for name in ("clients/clients_2025-01-07.csv", "email_sends/email_sends_2025-01-06.parquet"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "clients" / "notes.csv").write_text("no date, no day")
    assert landed_dates(tmp_path) == [dt.date(2025, 1, 6), dt.date(2025, 1, 7)]


def test_only_days_after_the_last_ingested_one_are_caught_up():
    landed = [dt.date(2025, 1, 6) + dt.timedelta(days=d) for d in range(5)]
    assert days_to_ingest(landed, {"2025-01-07"}) == landed[2:]
    assert days_to_ingest(landed, set()) == landed
    assert days_to_ingest(landed, {"2025-01-10"}) == []


def test_the_catch_up_plans_each_asset_once_for_its_whole_range_and_materialises_every_day(
    lived_instance,
):
    days = {day.isoformat() for day in landed_dates(settings.landing_dir())}
    key = dg.AssetKey(["raw", "clients"])

    planned = lived_instance.fetch_planned_materializations(key, limit=10).records

    assert len(planned) == 1
    subset = planned[0].event_log_entry.dagster_event.event_specific_data.partitions_subset
    assert set(subset.get_partition_keys()) == days
    assert lived_instance.get_materialized_partitions(key) == days
