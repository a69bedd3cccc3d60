"""Landing zone → `raw.*`: one daily-partitioned asset per source contract, plus a
quarantine-rate check each.

A run over a range of days (a single-run backfill) handles its days in date order, exactly as if
each day had been run on its own.
"""

import datetime as dt
from collections.abc import Iterable
from itertools import chain
from typing import Any

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets.ingestion.contracts import CONTRACTS, Contract
from roi_assets.ingestion.daily_files import LATE_TOLERANCE_DAYS
from roi_assets.ingestion.loader import (
    LOADED,
    QUARANTINE,
    QUARANTINED,
    RAW_SCHEMA,
    IngestReport,
    LandedFile,
    ingest_days,
    local_landed_files,
    quarantine_counts,
    rows_named_for,
    s3_landed_files,
)
from roi_assets.ingestion.partitions import daily_partitions
from roi_assets.resources.storage import LandingZoneResource
from roi_assets.resources.warehouse import WAREHOUSE_POOL

MAX_QUARANTINED_SHARE = 0.01


def _landed_files(landing_zone: LandingZoneResource, contract: Contract) -> Iterable[LandedFile]:
    """The local folder's files, then the S3 prefix's when a bucket is configured."""
    local = local_landed_files(landing_zone.path, contract)
    if not landing_zone.uses_s3:
        return local
    remote = s3_landed_files(
        landing_zone.s3_client(), landing_zone.s3_bucket, landing_zone.s3_prefix, contract
    )
    return chain(local, remote)


def run_days(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[dt.date]:
    """The run's partition keys as dates, in order: one day, or a backfill's range."""
    return sorted(dt.date.fromisoformat(key) for key in context.partition_keys)


def report_metadata(report: IngestReport) -> dict[str, Any]:
    """Totals, a table per day, and the files quarantined or late with their reasons."""
    quarantined = "\n".join(f"- `{name}`: {reason}" for name, reason in report.files_quarantined)
    late = "\n".join(
        f"- `{f.name}`: {f.days_late} day(s) late, {f.status}" for f in report.late_files
    )
    per_day = [
        "| day | file named for it | rows landed | loaded | quarantined "
        "| files loaded | files quarantined | late files |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for day in report.days:
        files = day.files
        per_day.append(
            f"| {day.day} | {'yes' if day.has_file else 'no'} "
            f"| {sum(f.rows_landed for f in files)} | {sum(f.rows_loaded for f in files)} "
            f"| {sum(f.rows_quarantined for f in files)} "
            f"| {sum(f.status == LOADED for f in files)} "
            f"| {sum(f.status == QUARANTINED for f in files)} "
            f"| {sum(f.days_late > 0 for f in files)} |"
        )
    missing = ", ".join(str(day) for day in report.days_without_file)
    return {
        "days": len(report.days),
        "rows_landed": report.rows_landed,
        "rows_loaded": report.rows_loaded,
        "rows_quarantined": report.rows_quarantined,
        "files_loaded": len(report.files_loaded),
        "files_quarantined": dg.MetadataValue.md(quarantined or "none"),
        "late_files": dg.MetadataValue.md(late or "none"),
        "days_without_file": dg.MetadataValue.text(missing or "none"),
        "per_day": dg.MetadataValue.md("\n".join(per_day)),
    }


def _ingestion_asset(contract: Contract) -> dg.AssetsDefinition:
    @dg.asset(
        name=contract.table,
        key_prefix=[RAW_SCHEMA],
        group_name="ingestion",
        kinds={"duckdb"},
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        description=f"{contract.description} One partition per day: the run for a day loads "
        f"landing/{contract.source}/{contract.source}_<day>.{contract.file_format} (locally and "
        f"under the S3 landing prefix when a bucket is configured) and late files up to "
        f"{LATE_TOLERANCE_DAYS} days old; bad rows and files go to {QUARANTINE}.",
    )
    def load(
        context: dg.AssetExecutionContext, landing_zone: LandingZoneResource, duckdb: DuckDBResource
    ) -> dg.MaterializeResult:
        days = run_days(context)
        with duckdb.get_connection() as con:
            report = ingest_days(con, contract, _landed_files(landing_zone, contract), days)
            rows = rows_named_for(con, contract, days)
        if missing := ", ".join(str(day) for day in report.days_without_file):
            context.log.info("no %s file for %s", contract.source, missing)
        return dg.MaterializeResult(metadata=report_metadata(report) | {"dagster/row_count": rows})

    return load


def _quarantine_check(contract: Contract) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([RAW_SCHEMA, contract.table]),
        name="quarantined_share_below_1_percent",
        description="Warns when more than 1 % of the rows the run's days handled (all rows, "
        "outside a partitioned run) broke the contract or came too late.",
    )
    def check(
        context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource
    ) -> dg.AssetCheckResult:
        partitioned = context.has_partition_key or context.has_partition_key_range
        with duckdb.get_connection() as con:
            loaded, rejected = quarantine_counts(
                con, contract, run_days(context) if partitioned else None
            )
        share = rejected / max(loaded + rejected, 1)
        return dg.AssetCheckResult(
            passed=share <= MAX_QUARANTINED_SHARE,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"quarantined_rows": rejected, "loaded_rows": loaded, "share": share},
        )

    return check


raw_assets = [_ingestion_asset(c) for c in CONTRACTS.values()]
raw_checks = [_quarantine_check(c) for c in CONTRACTS.values()]
