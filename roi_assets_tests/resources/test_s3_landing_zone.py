"""The landing zone on S3: the raw assets read a bucket laid out like the local folder, through the
same contracts, day rules and ledger, and never change what they read."""

import datetime as dt
import hashlib

import boto3
import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from roi_assets import settings
from roi_assets.ingestion.assets import raw_assets
from roi_assets.ingestion.contracts import CONTRACTS
from roi_assets.ingestion.loader import LEDGER, RAW_SCHEMA, ingest_source
from roi_assets.resources.storage import LandingZoneResource
from roi_assets_tests.ingestion.daily_exports import export_name, write_all_exports

PREFIX = "zone/landing"
FIRST_DAY = dt.date(2025, 1, 6)
DAYS = 3
RANGE_TAGS = {
    "dagster/asset_partition_range_start": FIRST_DAY.isoformat(),
    "dagster/asset_partition_range_end": (FIRST_DAY + dt.timedelta(days=DAYS - 1)).isoformat(),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Three days of every source's daily export, one of them with a contract-breaking row."""
    landing = tmp_path_factory.mktemp("landing")
    for offset in range(DAYS):
        write_all_exports(landing, FIRST_DAY + dt.timedelta(days=offset))
    with (landing / export_name("email_events", FIRST_DAY)).open("a") as handle:
        handle.write('{"event_id": "e-bad", "event_type": "bounce_unknown"}\n')
    return landing


@pytest.fixture(scope="module")
def local_counts(world, tmp_path_factory):
    """Row counts of every raw table when the same world is loaded from the local folder."""
    con = duckdb.connect(str(tmp_path_factory.mktemp("local") / "warehouse.duckdb"))
    for contract in CONTRACTS.values():
        ingest_source(con, world, contract)
    return _counts(con)


def _counts(con):
    tables = {
        name: con.execute(f"select count(*) from raw.{name}").fetchone()[0] for name in CONTRACTS
    }
    return tables | {"quarantine": con.execute("select count(*) from raw.quarantine").fetchone()[0]}


def _upload(world, bucket):
    s3 = boto3.client("s3")
    for path in sorted(p for p in world.rglob("*") if p.is_file()):
        s3.upload_file(str(path), bucket, f"{PREFIX}/{path.relative_to(world).as_posix()}")


def _objects(bucket):
    """Every object's key and SHA-256, read back from the bucket."""
    s3 = boto3.client("s3")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", ())]
    return {
        key: hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
        for key in keys
    }


def _materialize(bucket, tmp_path, selection=None):
    """Backfills the raw assets' days in one run, with an empty local folder and the landing
    files only on S3."""
    local = tmp_path / "empty_landing"
    local.mkdir(exist_ok=True)
    result = dg.materialize(
        raw_assets,
        selection=selection,
        resources={
            "landing_zone": LandingZoneResource(
                local_dir=str(local), s3_bucket=bucket, s3_prefix=PREFIX
            ),
            "duckdb": DuckDBResource(database=str(tmp_path / "warehouse.duckdb")),
        },
        instance=dg.DagsterInstance.ephemeral(),
        tags=RANGE_TAGS,
    )
    assert result.success
    return result


def _metadata(result, table):
    return result.asset_materializations_for_node(f"{RAW_SCHEMA}__{table}")[0].metadata


def test_files_landed_on_s3_load_the_same_rows_as_the_local_folder(
    world, local_counts, bucket, tmp_path
):
    _upload(world, bucket)

    result = _materialize(bucket, tmp_path)

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        assert _counts(con) == local_counts
        names = [row[0] for row in con.execute(f"select source_file from {LEDGER}").fetchall()]
    assert names and all(name.startswith(f"s3://{bucket}/{PREFIX}/") for name in names)
    assert _metadata(result, "clients")["files_loaded"].value == DAYS


def test_a_second_ingestion_from_s3_adds_nothing_and_leaves_the_bucket_as_it_was(
    world, local_counts, bucket, tmp_path
):
    _upload(world, bucket)
    before = _objects(bucket)
    _materialize(bucket, tmp_path)

    again = _materialize(bucket, tmp_path)

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        assert _counts(con) == local_counts
    for name in CONTRACTS:
        assert _metadata(again, name)["files_loaded"].value == 0
        assert _metadata(again, name)["rows_loaded"].value == 0
        assert _metadata(again, name)["files_quarantined"].value == "none"
    assert _objects(bucket) == before


def test_a_malformed_file_on_s3_is_quarantined_and_stays_in_the_bucket(bucket, tmp_path):
    s3 = boto3.client("s3")
    broken = f"{PREFIX}/{export_name('clients', FIRST_DAY)}"
    s3.put_object(Bucket=bucket, Key=broken, Body=b"client_id,signup_date\nC1,2024-01-01\n")
    s3.put_object(Bucket=bucket, Key=f"{PREFIX}/clients/.clients_2025-01-07.csv", Body=b"")

    result = _materialize(bucket, tmp_path, selection=[dg.AssetKey([RAW_SCHEMA, "clients"])])

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        ledger = con.execute(f"select source_file, status, reason from {LEDGER}").fetchall()
    assert ledger == [
        (
            f"s3://{bucket}/{broken}",
            "quarantined",
            "missing required column(s): client_type, "
            "property_value_bracket, transaction_stage, geographic_region, timezone, "
            "preferred_communication, age_group, client_value_tier, email",
        )
    ]
    assert f"s3://{bucket}/{broken}" in _metadata(result, "clients")["files_quarantined"].value
    assert s3.get_object(Bucket=bucket, Key=broken)["Body"].read().startswith(b"client_id,")


def test_the_landing_zone_is_put_on_s3_by_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.ENV_LANDING_DIR, str(tmp_path))
    monkeypatch.delenv(settings.ENV_S3_LANDING_BUCKET, raising=False)
    assert not LandingZoneResource.from_settings().uses_s3

    monkeypatch.setenv(settings.ENV_S3_LANDING_BUCKET, "landing")
    monkeypatch.setenv(settings.ENV_S3_LANDING_PREFIX, "/zone/landing/")
    zone = LandingZoneResource.from_settings()

    assert (zone.path, zone.s3_bucket, zone.s3_prefix) == (tmp_path, "landing", "zone/landing")


def test_the_s3_client_follows_the_aws_endpoint_variable(s3_endpoint, s3_environment):
    client = LandingZoneResource(local_dir=".", s3_bucket="landing").s3_client()
    assert client.meta.endpoint_url == s3_endpoint
