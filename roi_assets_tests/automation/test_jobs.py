from roi_assets.definitions import defs
from roi_assets.monitoring.jobs import DAILY_MONITORING, WEEKLY_REPORTS


def _selected(job_name: str) -> set:
    return set(defs.resolve_job_def(job_name).asset_layer.selected_asset_keys)


def test_sundays_retrain_is_refresh_all_without_the_monitoring_that_follows_it():
    monitoring = {asset.key for asset in (*DAILY_MONITORING, *WEEKLY_REPORTS)}
    schedule = defs.resolve_schedule_def("weekly_search")

    assert schedule.job_name == "weekly_retrain"
    assert monitoring <= _selected("refresh_all")
    assert _selected("weekly_retrain") == _selected("refresh_all") - monitoring
    assert monitoring <= _selected("monitoring_daily") | _selected("monitoring_weekly")
