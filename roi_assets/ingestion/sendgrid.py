"""Turns SendGrid Event Webhook payloads into the landing zone's `email_events` day files.

SendGrid posts JSON arrays of event objects (`email`, `timestamp` in Unix seconds, `event`,
`sg_event_id`, `sg_message_id`, ...; the custom arguments given at send time appear as top-level
keys). The platform sends every email with two custom arguments, `send_id` and `client_id`, which
tie an event to its row in `email_sends`; an event without them cannot be joined and is dropped.

Only opens and clicks are kept: the contract's third type, `action`, is the platform's own event
(the client did what the email asked, in the product) and never comes from SendGrid. Delivery,
bounce and unsubscribe events are not engagement and are dropped, counted by type. Opens that
SendGrid marks `sg_machine_open` (Apple Mail Privacy Protection fetching every image when the
message arrives) are dropped because no person opened anything. SendGrid may deliver an event
more than once; a payload's repeats of one `sg_event_id` are dropped here, and staging
deduplicates on `event_id` across files.

    python -m roi_assets.ingestion.sendgrid webhook.json data/landing [--date YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from roi_assets.ingestion.contracts import CONTRACTS
from roi_assets.ingestion.validation import POLARS_TYPES

CONTRACT = CONTRACTS["email_events"]
KEPT_EVENTS = {"open": "open", "click": "click"}  # SendGrid event -> contract event_type
CUSTOM_ARGS = ("send_id", "client_id")  # attached by the platform to every send
SCHEMA = {c.name: POLARS_TYPES[c.type] for c in CONTRACT.columns}


@dataclass
class Dropped:
    """What a payload lost on its way to `email_events`, by reason; each event counts once."""

    not_engagement: Counter[str] = field(default_factory=Counter)  # by SendGrid event type
    machine_opens: int = 0
    missing_custom_args: int = 0
    duplicates: int = 0
    malformed: int = 0

    @property
    def total(self) -> int:
        return (
            sum(self.not_engagement.values())
            + self.machine_opens
            + self.missing_custom_args
            + self.duplicates
            + self.malformed
        )

    def lines(self) -> list[str]:
        """One line per reason, for people reading the command's output."""
        out = [
            f"{count} '{event}': not an open or click, the only SendGrid events email_events holds"
            for event, count in sorted(self.not_engagement.items())
        ]
        if self.machine_opens:
            out.append(
                f"{self.machine_opens} machine open(s): sg_machine_open is true, the mail client "
                "fetched the images, no person opened the email"
            )
        if self.missing_custom_args:
            out.append(
                f"{self.missing_custom_args} open/click event(s) without the custom args "
                f"{' and '.join(CUSTOM_ARGS)}: they cannot be joined to a send"
            )
        if self.duplicates:
            out.append(
                f"{self.duplicates} repeat(s) of an sg_event_id already in the payload: SendGrid "
                "may deliver an event more than once"
            )
        if self.malformed:
            out.append(
                f"{self.malformed} malformed event(s): not an object, or no event, sg_event_id "
                "or Unix timestamp"
            )
        return out


def _text(value: Any) -> str | None:
    """A custom argument or id as text; SendGrid custom args are strings, v2 unique_args may not
    be."""
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()
    return text or None


def _occurred_at(value: Any) -> dt.datetime | None:
    """UTC (naive, as the warehouse keeps timestamps) from Unix seconds."""
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
        return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _is_machine_open(event: dict[str, Any]) -> bool:
    flag = event.get("sg_machine_open")
    return flag is True or (isinstance(flag, str) and flag.strip().lower() == "true")


def email_events_from_sendgrid(events: Iterable[Any]) -> tuple[pl.DataFrame, Dropped]:
    """The payload's human opens and clicks as `email_events` rows (in payload order, typed as
    the contract), and what was dropped and why."""
    dropped = Dropped()
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for event in events:
        if not isinstance(event, dict) or _text(event.get("event")) is None:
            dropped.malformed += 1
            continue
        kind = str(event["event"]).strip()
        if kind not in KEPT_EVENTS:
            dropped.not_engagement[kind] += 1
            continue
        if kind == "open" and _is_machine_open(event):
            dropped.machine_opens += 1
            continue
        send_id, client_id = (_text(event.get(name)) for name in CUSTOM_ARGS)
        if send_id is None or client_id is None:
            dropped.missing_custom_args += 1
            continue
        event_id, occurred_at = (
            _text(event.get("sg_event_id")),
            _occurred_at(event.get("timestamp")),
        )
        if event_id is None or occurred_at is None:
            dropped.malformed += 1
            continue
        if event_id in seen:
            dropped.duplicates += 1
            continue
        seen.add(event_id)
        rows.append(
            {
                "event_id": event_id,
                "send_id": send_id,
                "client_id": client_id,
                "event_type": KEPT_EVENTS[kind],
                "occurred_at": occurred_at,
            }
        )
    return pl.DataFrame(rows, schema=SCHEMA, orient="row"), dropped


def read_webhook_payloads(path: Path) -> list[Any]:
    """The events in a file of webhook bodies: one JSON array (a single POST), or one body per
    line as a receiver appends them (each line an array or a single event)."""
    text = path.read_text(encoding="utf-8")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError:
        events: list[Any] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                body = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from error
            events.extend(body if isinstance(body, list) else [body])
        return events
    return payload if isinstance(payload, list) else [payload]


def day_file(landing_dir: Path, day: dt.date) -> Path:
    """The landing zone's one `email_events` file of a day."""
    return landing_dir / CONTRACT.source / f"{CONTRACT.source}_{day.isoformat()}.jsonl"


def _json_line(row: dict[str, Any]) -> str:
    moment: dt.datetime = row["occurred_at"]
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(row | {"occurred_at": stamp}, ensure_ascii=False) + "\n"


def write_day_file(frame: pl.DataFrame, landing_dir: Path, day: dt.date) -> Path:
    """Write the day's file through a hidden temporary name, so the loader never sees half a
    file; raises FileExistsError rather than replace a delivered file (landing files are never
    modified)."""
    target = day_file(landing_dir, day)
    if target.exists():
        raise FileExistsError(f"{target} already exists; landing files are never overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            handle.writelines(_json_line(row) for row in frame.iter_rows(named=True))
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, target)  # fails if the target appeared meanwhile: never clobbers
    except FileExistsError as error:
        raise FileExistsError(
            f"{target} already exists; landing files are never overwritten"
        ) from error
    finally:
        temporary.unlink(missing_ok=True)
    return target


def _latest_day(events: list[Any]) -> dt.date | None:
    """The UTC day of the payload's latest timestamp: the day it was received, near enough."""
    moments = [_occurred_at(e.get("timestamp")) for e in events if isinstance(e, dict)]
    known = [m for m in moments if m is not None]
    return max(known).date() if known else None


def main(argv: list[str] | None = None) -> int:
    """Convert a file of SendGrid webhook bodies into the day's `email_events` landing file."""
    parser = argparse.ArgumentParser(
        prog="python -m roi_assets.ingestion.sendgrid",
        description="Write a day's email_events landing file from SendGrid Event Webhook bodies.",
    )
    parser.add_argument("webhook", type=Path, help="JSON array, or one webhook body per line")
    parser.add_argument("landing_dir", type=Path, help="the landing zone's root folder")
    parser.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        help="the day the events were received (UTC); default: the day of the latest timestamp",
    )
    args = parser.parse_args(argv)
    try:
        events = read_webhook_payloads(args.webhook)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    day = args.date or _latest_day(events)
    if day is None:
        print("error: no event carries a timestamp; pass --date", file=sys.stderr)
        return 2
    frame, dropped = email_events_from_sendgrid(events)
    for line in dropped.lines():
        print(f"dropped {line}")
    if frame.is_empty():
        print(f"no human opens or clicks among {len(events)} event(s); nothing written")
        return 0
    try:
        target = write_day_file(frame, args.landing_dir, day)
    except FileExistsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {len(frame)} event(s) of {len(events)} to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
