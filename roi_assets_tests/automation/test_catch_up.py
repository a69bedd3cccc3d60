import datetime as dt

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
