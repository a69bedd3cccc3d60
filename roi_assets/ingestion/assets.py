"""Landing zone → `raw.*`: one asset per source contract, plus a quarantine-rate check each."""

from collections.abc import Iterable
from itertools import chain

import dagster as dg
from dagster_duckdb import DuckDBResource

from roi_assets.ingestion.contracts import CONTRACTS, Contract
from roi_assets.ingestion.loader import (
    QUARANTINE,
    RAW_SCHEMA,
    LandedFile,
    ingest_files,
    local_landed_files,
    s3_landed_files,
)
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


def _ingestion_asset(contract: Contract) -> dg.AssetsDefinition:
    @dg.asset(
        name=contract.table,
        key_prefix=[RAW_SCHEMA],
        group_name="ingestion",
        kinds={"duckdb"},
        deps=[dg.AssetKey("simulated_world")],
        pool=WAREHOUSE_POOL,
        description=f"{contract.description} Loaded incrementally from "
        f"landing/{contract.source}/ ({contract.file_format}), locally and under the S3 landing "
        f"prefix when a bucket is configured; bad rows go to {QUARANTINE}.",
    )
    def load(landing_zone: LandingZoneResource, duckdb: DuckDBResource) -> dg.MaterializeResult:
        with duckdb.get_connection() as con:
            report = ingest_files(con, contract, _landed_files(landing_zone, contract))
            total = con.execute(f"select count(*) from {RAW_SCHEMA}.{contract.table}").fetchone()[0]
        quarantined = "\n".join(
            f"- `{path}`: {reason}" for path, reason in report.files_quarantined
        )
        return dg.MaterializeResult(
            metadata={
                "files_loaded": len(report.files_loaded),
                "files_skipped_already_loaded": report.files_skipped,
                "files_quarantined": dg.MetadataValue.md(quarantined or "none"),
                "rows_loaded": report.rows_loaded,
                "rows_quarantined": report.rows_quarantined,
                "dagster/row_count": total,
            }
        )

    return load


def _quarantine_check(contract: Contract) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([RAW_SCHEMA, contract.table]),
        name="quarantined_share_below_1_percent",
        description="Warns when more than 1 % of this source's rows broke the contract.",
    )
    def check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            loaded = con.execute(f"select count(*) from {RAW_SCHEMA}.{contract.table}").fetchone()[
                0
            ]
            rejected = con.execute(
                f"select count(*) from {QUARANTINE} where source = ?", [contract.source]
            ).fetchone()[0]
        share = rejected / max(loaded + rejected, 1)
        return dg.AssetCheckResult(
            passed=share <= MAX_QUARANTINED_SHARE,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"quarantined_rows": rejected, "loaded_rows": loaded, "share": share},
        )

    return check


raw_assets = [_ingestion_asset(c) for c in CONTRACTS.values()]
raw_checks = [_quarantine_check(c) for c in CONTRACTS.values()]
