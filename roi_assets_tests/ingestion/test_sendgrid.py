"""SendGrid Event Webhook bodies become `email_events` rows a team can deliver as they are."""

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from roi_assets.ingestion.contracts import CONTRACTS
from roi_assets.ingestion.sendgrid import email_events_from_sendgrid, main
from roi_assets.ingestion.validation import validate_file

SAMPLE = Path(__file__).parent / "data" / "sendgrid_event_webhook_sample.json"
DAY_FILE = Path("email_events") / "email_events_2025-01-06.jsonl"
IGNORED_TYPES = {
    "processed": 1,
    "delivered": 2,
    "deferred": 1,
    "bounce": 1,
    "dropped": 1,
    "spamreport": 1,
    "unsubscribe": 1,
    "group_unsubscribe": 1,
    "group_resubscribe": 1,
}
EXPECTED_ROWS = [
    ("FOTFFO0ecsBE-zxFXfs6WA==", "S-000101", "C-0042", "open", dt.datetime(2025, 1, 6, 9, 31, 12)),
    ("kCAi1KttyQdEKHhdC-nuEA==", "S-000101", "C-0042", "click", dt.datetime(2025, 1, 6, 9, 32, 40)),
    ("b2VkYTVkZjQtN2I4Mi00Yw==", "S-000102", "C-0107", "open", dt.datetime(2025, 1, 6, 18, 2, 51)),
    # received on the 6th, opened on the 4th: late events keep the time they occurred
    ("bGF0ZS1vcGVuLTAwMS1zZW5k", "S-000087", "C-0042", "open", dt.datetime(2025, 1, 4, 21, 47, 5)),
]


@pytest.fixture(scope="module")
def sample() -> list[dict]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mapped(sample):
    return email_events_from_sendgrid(sample)


def _event(**fields) -> dict:
    base = {
        "email": "a@example.com",
        "timestamp": 1736155872,
        "event": "open",
        "sg_event_id": "id-1",
        "sg_message_id": "m-1",
        "send_id": "S-1",
        "client_id": "C-1",
    }
    return base | fields


def test_human_opens_and_clicks_are_kept_with_their_ids_and_utc_times(mapped):
    frame, _ = mapped
    assert frame.columns == CONTRACTS["email_events"].column_names
    assert frame.rows() == EXPECTED_ROWS


def test_unix_seconds_become_utc_timestamps_kept_naive_like_the_warehouses(mapped):
    frame, _ = mapped
    assert frame["occurred_at"].dtype.time_zone is None  # the warehouse keeps UTC, naive
    assert frame["occurred_at"][0] == dt.datetime.fromtimestamp(1736155872, dt.UTC).replace(
        tzinfo=None
    )


def test_events_that_are_not_opens_or_clicks_are_dropped_and_counted_by_type(mapped):
    _, dropped = mapped
    assert dict(dropped.not_engagement) == IGNORED_TYPES


def test_a_sendgrid_event_named_action_is_not_taken_for_the_platforms_action():
    frame, dropped = email_events_from_sendgrid([_event(event="action")])
    assert frame.is_empty() and dropped.not_engagement == {"action": 1}


def test_machine_opens_are_dropped_because_no_person_opened_the_email(sample, mapped):
    frame, dropped = mapped
    machine = [e["sg_event_id"] for e in sample if e.get("sg_machine_open") is True]
    assert machine and dropped.machine_opens == len(machine)
    assert not set(machine) & set(frame["event_id"])
    # the same send's later human open is kept
    assert "FOTFFO0ecsBE-zxFXfs6WA==" in frame["event_id"]


def test_a_repeated_delivery_of_one_sg_event_id_is_kept_once(sample, mapped):
    frame, dropped = mapped
    ids = [e["sg_event_id"] for e in sample]
    assert ids.count("kCAi1KttyQdEKHhdC-nuEA==") == 2
    assert frame["event_id"].to_list().count("kCAi1KttyQdEKHhdC-nuEA==") == 1
    assert dropped.duplicates == 1


def test_opens_and_clicks_without_the_platforms_custom_args_are_counted_not_kept(sample, mapped):
    frame, dropped = mapped
    unjoinable = [
        e["sg_event_id"]
        for e in sample
        if e["event"] in ("open", "click") and not (e.get("send_id") and e.get("client_id"))
    ]
    assert len(unjoinable) == 2 and dropped.missing_custom_args == 2
    assert not set(unjoinable) & set(frame["event_id"])


def test_every_event_is_either_kept_or_counted_under_exactly_one_reason(sample, mapped):
    frame, dropped = mapped
    assert len(frame) + dropped.total == len(sample)


def test_events_without_an_id_or_a_unix_timestamp_are_malformed():
    events = [
        _event(sg_event_id=None),
        _event(timestamp="yesterday"),
        _event(timestamp=True),
        "not an object",
        {"sg_event_id": "x"},
    ]
    frame, dropped = email_events_from_sendgrid(events)
    assert frame.is_empty() and dropped.malformed == 5


def test_custom_args_that_are_numbers_become_text():
    frame, _ = email_events_from_sendgrid([_event(send_id=101, client_id=42)])
    assert frame.select("send_id", "client_id").row(0) == ("101", "42")


def test_the_cli_output_passes_the_products_email_events_contract(tmp_path, capsys):
    assert main([str(SAMPLE), str(tmp_path), "--date", "2025-01-06"]) == 0
    validated = validate_file(tmp_path / DAY_FILE, CONTRACTS["email_events"])
    assert validated.rejected.is_empty()
    assert validated.valid.drop("_row_number").rows() == EXPECTED_ROWS


def test_the_cli_prints_what_it_dropped_and_why(tmp_path, capsys):
    main([str(SAMPLE), str(tmp_path), "--date", "2025-01-06"])
    out = capsys.readouterr().out
    assert "dropped 2 'delivered': not an open or click" in out
    assert "dropped 1 machine open(s)" in out
    assert "dropped 2 open/click event(s) without the custom args send_id and client_id" in out
    assert "dropped 1 repeat(s) of an sg_event_id already in the payload" in out
    assert f"wrote 4 event(s) of 18 to {tmp_path / DAY_FILE}" in out


def test_without_a_date_the_file_is_named_by_the_day_of_the_latest_timestamp(tmp_path):
    assert main([str(SAMPLE), str(tmp_path)]) == 0
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()] == [DAY_FILE]


def test_the_cli_refuses_to_overwrite_a_delivered_file(tmp_path, capsys):
    existing = tmp_path / DAY_FILE
    existing.parent.mkdir(parents=True)
    existing.write_text("delivered earlier\n")
    assert main([str(SAMPLE), str(tmp_path), "--date", "2025-01-06"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert existing.read_text() == "delivered earlier\n"
    assert sorted(p.name for p in existing.parent.iterdir()) == [existing.name]  # no temp left


def test_webhook_bodies_stored_one_per_line_are_read_like_one_array(sample, tmp_path):
    bodies = tmp_path / "bodies.jsonl"
    bodies.write_text("\n".join(json.dumps(sample[i : i + 5]) for i in range(0, len(sample), 5)))
    assert main([str(bodies), str(tmp_path / "landing"), "--date", "2025-01-06"]) == 0
    validated = validate_file(tmp_path / "landing" / DAY_FILE, CONTRACTS["email_events"])
    assert validated.valid.drop("_row_number").rows() == EXPECTED_ROWS


def test_a_payload_without_human_opens_or_clicks_writes_no_file(tmp_path):
    payload = tmp_path / "hooks.json"
    payload.write_text(json.dumps([_event(event="delivered"), _event(sg_machine_open=True)]))
    assert main([str(payload), str(tmp_path / "landing")]) == 0
    assert not (tmp_path / "landing").exists()


def test_the_module_runs_as_a_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "roi_assets.ingestion.sendgrid", str(SAMPLE), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / DAY_FILE).read_text().count("\n") == len(EXPECTED_ROWS)
