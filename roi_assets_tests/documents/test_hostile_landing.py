"""The serving API's hostile files landed instead of uploaded: each is quarantined with the reason
code the API answers with, the run that checked it succeeds, and the file stays as it landed."""

from __future__ import annotations

import dagster as dg
import pytest

from roi_assets.documents import sensors
from roi_assets.documents.assets import document_ocr, documents_partitions
from roi_assets.documents.process_landed import process_landed
from roi_assets.resources.storage import LandingZoneResource
from roi_assets.resources.warehouse import connect, duckdb_resource, polars_io_manager
from roi_assets_tests.hostile_inputs import HOSTILE_FILES


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    """Every hostile file in landing/documents/, processed through the sensor's requests by a
    job of the intake asset alone (nothing here reaches a classifier)."""
    root = tmp_path_factory.mktemp("hostile_landing")
    folder = root / "landing" / "documents"
    folder.mkdir(parents=True)
    for hostile in HOSTILE_FILES:
        (folder / hostile.name).write_bytes(hostile.content())
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    warehouse = root / "warehouse.duckdb"
    zone = LandingZoneResource(local_dir=str(root / "landing"))
    intake_only = dg.define_asset_job(
        "hostile_intake", selection=[document_ocr], partitions_def=documents_partitions
    )
    job = dg.Definitions(
        assets=[document_ocr],
        jobs=[intake_only],
        resources={
            "duckdb": duckdb_resource(warehouse),
            "io_manager": polars_io_manager(warehouse),
            "landing_zone": zone,
        },
    ).resolve_job_def(intake_only.name)
    with pytest.MonkeyPatch.context() as patch, dg.DagsterInstance.ephemeral() as instance:
        patch.setattr(sensors, "look_started_ns", lambda: 2**62)  # every landed file settled
        outcomes = process_landed(instance, zone, job, workers=1)
    with connect(warehouse, read_only=True) as con:
        rows = con.execute(
            "select source_file, reason from raw.quarantine where source = 'documents'"
        ).fetchall()
    yield {
        "reasons": {location.removeprefix("documents/"): reason for location, reason in rows},
        "outcomes": outcomes,
        "before": before,
        "folder": folder,
    }


@pytest.mark.parametrize("hostile", HOSTILE_FILES, ids=lambda row: row.case)
def test_a_hostile_file_is_quarantined_with_the_reason_the_api_gives(landed, hostile):
    reason = landed["reasons"][hostile.name]
    assert reason.startswith(f"{hostile.reason}: ")
    assert len(reason) > len(hostile.reason) + 10  # a sentence follows the code


def test_every_run_succeeds_and_no_landed_file_is_touched(landed):
    assert landed["outcomes"] == {"success": len(HOSTILE_FILES)}
    after = {path.name: path.read_bytes() for path in landed["folder"].iterdir()}
    assert after == landed["before"]
