"""Small daily exports in the landing layout, written the way each source delivers them, and ways
to break them the way real exports break."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import polars as pl

from roi_assets.ingestion.contracts import CONTRACTS
from roi_assets.simulator import catalog

SOURCES = tuple(c.source for c in CONTRACTS.values())
EXTENSION = {"csv": "csv", "parquet": "parquet", "jsonl": "jsonl"}


def export_name(source: str, day: dt.date) -> str:
    """`<source>/<source>_YYYY-MM-DD.<ext>`, relative to the landing folder."""
    return f"{source}/{source}_{day.isoformat()}.{EXTENSION[CONTRACTS[source].file_format]}"


def day_rows(source: str, day: dt.date, n_rows: int = 2) -> list[dict]:
    """Valid rows of one source for one day, different every day."""
    stamp = dt.datetime.combine(day, dt.time(9, 30))
    tag = day.strftime("%Y%m%d")
    rows = []
    for i in range(n_rows):
        client = f"C{tag}{i}"
        region = catalog.REGIONS[i % len(catalog.REGIONS)]
        rows.append(
            {
                "clients": {
                    "client_id": client,
                    "signup_date": day.isoformat(),
                    "client_type": catalog.CLIENT_TYPES[0],
                    "property_value_bracket": catalog.PROPERTY_VALUE_BRACKETS[0],
                    "transaction_stage": catalog.TRANSACTION_STAGES[0],
                    "geographic_region": region,
                    "timezone": catalog.REGION_TIME_ZONES[region],
                    "preferred_communication": catalog.PREFERRED_COMMUNICATION[0],
                    "age_group": catalog.AGE_GROUPS[0],
                    "client_value_tier": catalog.CLIENT_VALUE_TIERS[0],
                    "email": f"{client.lower()}@example.com",
                },
                "subscriptions": {
                    "subscription_id": f"S{tag}{i}",
                    "client_id": client,
                    "plan": catalog.PLANS[0],
                    "monthly_fee": "49.0",
                    "started_at": stamp.isoformat(),
                    "term_months": "12",
                    "cancelled_at": "",
                },
                "market_index": {
                    "geographic_region": region,
                    "week_start": day.isoformat(),
                    "volatility_index": str(0.1 * (i + 1)),
                },
                "email_sends": {
                    "send_id": f"M{tag}{i}",
                    "client_id": client,
                    "campaign_id": "spring",
                    "sent_at": stamp,
                    "subject_length": 40,
                    "personalization_score": 0.5,
                    "urgency_indicators": False,
                    "value_proposition_strength": 0.4,
                    "call_to_action_count": 1,
                    "image_count": 0,
                    "subject_line_variant": catalog.CONTENT_VARIANTS["subject_line"][0],
                    "email_template": catalog.CONTENT_VARIANTS["email_template"][0],
                    "cta_style": catalog.CONTENT_VARIANTS["cta_style"][0],
                },
                "email_events": {
                    "event_id": f"E{tag}{i}",
                    "send_id": f"M{tag}{i}",
                    "client_id": client,
                    "event_type": catalog.EMAIL_EVENT_TYPES[0],
                    "occurred_at": f"{stamp.isoformat()}Z",
                },
                "user_events": {
                    "event_id": int(tag) * 100 + i,
                    "client_id": client,
                    "event_type": catalog.USER_EVENT_TYPES[0],
                    "occurred_at": stamp,
                    "feature_name": None,
                    "sentiment": None,
                    "nps_score": None,
                    "size_mb": None,
                    "duration_minutes": 12.5,
                },
            }[source]
        )
    return rows


def write_rows(path: Path, source: str, rows: list[dict]) -> Path:
    """Write rows in the source's format (CSV and JSON lines end with a line break)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    file_format = CONTRACTS[source].file_format
    if file_format == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif file_format == "csv":
        pl.DataFrame(rows, schema=list(rows[0])).write_csv(path)
    else:
        pl.DataFrame(rows, schema_overrides=_PARQUET_TYPES[source]).write_parquet(path)
    return path


def write_export(landing: Path, source: str, day: dt.date, n_rows: int = 2) -> Path:
    """The source's valid export for `day`."""
    return write_rows(landing / export_name(source, day), source, day_rows(source, day, n_rows))


def write_all_exports(landing: Path, day: dt.date, n_rows: int = 2) -> None:
    for source in SOURCES:
        write_export(landing, source, day, n_rows)


def landing_hashes(landing: Path) -> dict[Path, str]:
    return {
        p: hashlib.sha256(p.read_bytes()).hexdigest() for p in landing.rglob("*") if p.is_file()
    }


_PARQUET_TYPES = {
    "email_sends": {"sent_at": pl.Datetime("us")},
    "user_events": {
        "feature_name": pl.String,
        "sentiment": pl.Float64,
        "nps_score": pl.Float64,
        "size_mb": pl.Float64,
        "duration_minutes": pl.Float64,
    },
}
